import { z } from "zod";
import { environmentSchema, parseTableName } from "../sources/input";

/** What PUT /api/retention takes and GET answers. Client-safe: no server imports. */

/** The longest a rule may keep changes: a hundred years. Longer is "forever" (days: null). */
export const MAX_RETENTION_DAYS = 36_500;
/** More rules than any instance has environments and tables: a body past this is a mistake. */
export const MAX_RULES = 2_000;

/** A retention rule as the API names it: `table` null for the whole environment. */
export type RetentionRule = {
  environment: string;
  table: string | null;
  /** Days changes are kept after they were committed; null: forever. */
  days: number | null;
  /** Archive a partition (lib/archive) before it is dropped. */
  archive: boolean;
};

const daysSchema = z
  .number({ error: "days must be a whole number of days (1 to 36500) or null for forever" })
  .int("days must be a whole number of days")
  .min(1, "days must be at least 1 (or null for forever)")
  .max(MAX_RETENTION_DAYS, `days must be at most ${MAX_RETENTION_DAYS} (or null for forever)`)
  .nullable();

const tableSchema = z
  .string({ error: 'table must be null (the whole environment) or a name like "public.orders"' })
  .trim()
  .max(200, "table must be at most 200 characters")
  .refine((name) => parseTableName(name) !== null, {
    error: (issue) => `"${String(issue.input)}" is not a table name of the form "schema.table"`,
  })
  .nullable();

export const retentionRuleSchema = z
  .object({
    environment: environmentSchema,
    table: tableSchema,
    days: daysSchema,
    archive: z.boolean({ error: "archive must be true or false" }).default(false),
  })
  .strict();

/** The key a rule is unique by. */
export function ruleKey(rule: Pick<RetentionRule, "environment" | "table">): string {
  return `${rule.environment}\u0000${rule.table ?? ""}`;
}

/** PUT /api/retention's body: every rule there is (the ones left out are removed). */
export const retentionUpdateSchema = z
  .object({
    rules: z
      .array(retentionRuleSchema, { error: "rules must be a list of { environment, table, days, archive }" })
      .max(MAX_RULES, `rules must hold at most ${MAX_RULES} rules`),
  })
  .strict()
  .superRefine(({ rules }, context) => {
    const seen = new Map<string, number>();
    rules.forEach((rule, index) => {
      const key = ruleKey(rule);
      const first = seen.get(key);
      if (first !== undefined) {
        const what = rule.table === null ? `environment ${rule.environment}` : `${rule.table} in ${rule.environment}`;
        context.addIssue({
          code: "custom",
          path: ["rules", index, rule.table === null ? "environment" : "table"],
          message: `a second rule for ${what} (rules.${first} is one); each environment and table has one rule`,
        });
      } else {
        seen.set(key, index);
      }
      if (rule.archive && rule.days === null) {
        context.addIssue({
          code: "custom",
          path: ["rules", index, "archive"],
          message: "archive applies to changes that expire: set days, or archive: false to keep forever",
        });
      }
    });
  });

export type RetentionUpdate = z.infer<typeof retentionUpdateSchema>;

/** The rule that governs `table` (schema.table) in `environment`: its own, else the environment's, else none. */
export function ruleFor(
  rules: readonly RetentionRule[],
  environment: string,
  table: string | null,
): RetentionRule | undefined {
  const own = table === null ? undefined : rules.find((r) => r.environment === environment && r.table === table);
  return own ?? rules.find((r) => r.environment === environment && r.table === null);
}

/** How a rule reads: "7 days", "1 day", "forever". */
export function keepText(days: number | null): string {
  if (days === null) return "forever";
  return days === 1 ? "1 day" : `${days.toLocaleString("en-US")} days`;
}
