import { z } from "zod";
import { singleParams } from "./params";
import { parseIsoTime } from "./time";

const TIME_MESSAGE = "must be an ISO-8601 time with a time zone, e.g. 2024-05-06T07:08:09Z";
const limitMessage = "must be an integer between 1 and 500";

const required = (max: number) =>
  z.string({ error: "is required" }).trim().min(1, "is required").max(max, `must be at most ${max} characters`);

const at = z.string({ error: "is required" }).transform((value, ctx) => {
  const parsed = parseIsoTime(value);
  if (parsed === null) ctx.addIssue({ code: "custom", message: TIME_MESSAGE });
  return parsed ?? "";
});

const target = {
  table: required(500),
  database: z.string().trim().min(1).max(500, "must be at most 500 characters").optional(),
  sourceId: z.uuid({ error: "must be a UUID" }).optional(),
  at,
};

const recordSchema = z.object({
  ...target,
  primaryKey: z.string({ error: "is required" }).min(1, "is required").max(2000, "must be at most 2000 characters"),
});

const tableSchema = z.object({
  ...target,
  cursor: z.string().max(4000, "is not valid").optional(),
  limit: z.coerce
    .number({ error: limitMessage })
    .int(limitMessage)
    .min(1, limitMessage)
    .max(500, limitMessage)
    .default(100),
});

/** GET /api/records/as-of: the row (table, key, database or source) and the moment. */
export function parseRecordAsOfParams(params: URLSearchParams) {
  const { at: moment, ...record } = recordSchema.parse(singleParams(params));
  return { record, at: moment };
}

/** GET /api/tables/as-of: the table (and database or source), the moment and a page. */
export function parseTableAsOfParams(params: URLSearchParams) {
  const { at: moment, cursor, limit, ...table } = tableSchema.parse(singleParams(params));
  return { table, at: moment, page: { cursor, limit } };
}
