import { z } from "zod";
import { OPERATIONS } from "./filters";
import type { ChangeFilters, PageRequest } from "./queries";

const text = z.string().trim().min(1).max(500);

const listSchema = z.object({
  operation: z
    .string()
    .trim()
    .toUpperCase()
    .pipe(z.enum(OPERATIONS, { error: "operation must be one of CREATE, UPDATE, DELETE, TRUNCATE" }))
    .optional(),
  table: text.optional(),
  primaryKey: z.string().max(2000).optional(),
  environment: text.optional(),
  database: text.optional(),
  sourceId: z.uuid({ error: "sourceId must be a UUID" }).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce
    .number({ error: "limit must be an integer between 1 and 500" })
    .int("limit must be an integer between 1 and 500")
    .min(1, "limit must be an integer between 1 and 500")
    .max(500, "limit must be an integer between 1 and 500")
    .default(50),
});

/**
 * GET /api/changes query parameters. Empty parameters count as absent so a form can send
 * every field; unknown parameters are ignored. Throws ZodError (400) on bad values.
 */
export function parseListParams(params: URLSearchParams): { filters: ChangeFilters; page: PageRequest } {
  const present: Record<string, string> = {};
  for (const [key, value] of params) if (value !== "") present[key] = value;
  const { cursor, limit, ...filters } = listSchema.parse(present);
  return { filters, page: { cursor, limit } };
}
