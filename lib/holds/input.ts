import { z } from "zod";

/** What POST /api/holds takes. Client-safe: no server imports. */

export const MAX_HOLD_REASON = 500;

const time = (name: "from" | "to") =>
  z
    .string({ error: `${name} must be an ISO time, e.g. 2026-01-01T00:00:00Z` })
    .trim()
    .max(100, `${name} must be an ISO time, e.g. 2026-01-01T00:00:00Z`)
    .refine((text) => /^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text)), {
      error: `${name} must be an ISO time, e.g. 2026-01-01T00:00:00Z`,
    })
    .transform((text) => new Date(text));

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
  .refine((hold) => hold.from < hold.to, { path: ["to"], error: "to must be after from" });

export type HoldInput = z.infer<typeof holdInputSchema>;
