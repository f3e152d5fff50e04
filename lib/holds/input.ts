import { z } from "zod";

/** What POST /api/holds takes. Client-safe: no server imports. */

export const MAX_HOLD_REASON = 500;

/** An ISO time with its zone (Z or an offset): a time without one would be read in the server's zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;

const time = (name: "from" | "to") => {
  const message = `${name} must be an ISO time with its zone, e.g. 2026-01-01T00:00:00Z`;
  return z
    .string({ error: message })
    .trim()
    .max(100, message)
    .refine((text) => ISO_TIME.test(text) && !Number.isNaN(Date.parse(text)), { error: message })
    .transform((text) => new Date(text));
};

export const holdInputSchema = z
  .object({
    database: z
      .string({ error: "database must be a database's name or id" })
      .trim()
      .min(1, "database must be a database's name or id")
      .max(500, "database must be at most 500 characters"),
    from: time("from"),
    to: time("to"),
    reason: z
      .string({ error: "reason must say why the changes are held" })
      .trim()
      .min(1, "reason must say why the changes are held")
      .max(MAX_HOLD_REASON, `reason must be at most ${MAX_HOLD_REASON} characters`),
  })
  .strict()
  // Zod runs this after a field failed too (with that field unparsed): only two times are compared.
  .refine((hold) => !(hold.from instanceof Date && hold.to instanceof Date) || hold.from < hold.to, {
    path: ["to"],
    error: "to must be after from",
  });

export type HoldInput = z.infer<typeof holdInputSchema>;
