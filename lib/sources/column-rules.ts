import { z } from "zod";

/**
 * Column rules of a source: columns kept out of the trail (`exclude`) or stored as a keyed hash
 * (`mask`). Client-safe (no server imports): the form validates with the same schema.
 *
 * A pattern names columns as `schema.table.column` or `table.column` (any schema); `*` in a part
 * matches any run of characters, so `*.updated_at` is every table's `updated_at` and
 * `billing.*.card_number` every `card_number` of schema billing. Names are matched exactly (case
 * included); a name containing a dot cannot be named by a pattern.
 */

export const COLUMN_ACTIONS = ["exclude", "mask"] as const;
export type ColumnAction = (typeof COLUMN_ACTIONS)[number];

export type ColumnRule = { pattern: string; action: ColumnAction };

export type ColumnRules = {
  rules: ColumnRule[];
  /** An UPDATE whose only changes are in excluded columns is not recorded (needs a full before image). */
  skipExcludedOnlyUpdates: boolean;
};

export const NO_COLUMN_RULES: ColumnRules = { rules: [], skipExcludedOnlyUpdates: false };

const PART = /^[^.\s]+$/;

function validPattern(pattern: string): boolean {
  const parts = pattern.split(".");
  return (parts.length === 2 || parts.length === 3) && parts.every((part) => PART.test(part));
}

export const columnRuleSchema = z.strictObject({
  pattern: z
    .string({ error: 'pattern must be a string like "public.users.password" or "*.updated_at"' })
    .trim()
    .max(200, "A pattern is at most 200 characters")
    .refine(validPattern, {
      error: (issue) =>
        `"${String(issue.input)}" is not a column pattern: ` +
        "write schema.table.column or table.column (* matches anything)",
    }),
  action: z.enum(COLUMN_ACTIONS, { error: "action must be exclude or mask" }),
});

export const columnRulesSchema = z.strictObject({
  rules: z
    .array(columnRuleSchema, { error: "rules must be a list of { pattern, action }" })
    .max(500, "At most 500 rules")
    .transform((rules) => {
      // One rule per pattern: the last one given wins.
      const byPattern = new Map(rules.map((rule) => [rule.pattern, rule]));
      return [...byPattern.values()];
    }),
  skipExcludedOnlyUpdates: z.boolean({ error: "skipExcludedOnlyUpdates must be true or false" }).default(false),
});

type CompiledPattern = { schema: RegExp | null; table: RegExp; column: RegExp; action: ColumnAction };

function globPart(part: string): RegExp {
  const escaped = part.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*");
  return new RegExp(`^${escaped}$`, "s");
}

function compile(rule: ColumnRule): CompiledPattern {
  const parts = rule.pattern.split(".");
  const [a = "", b = "", c] = parts;
  return c === undefined
    ? { schema: null, table: globPart(a), column: globPart(b), action: rule.action }
    : { schema: globPart(a), table: globPart(b), column: globPart(c), action: rule.action };
}

/**
 * The rules compiled for matching. `forTable` is asked once per relation message (never per row):
 * the columns of that table the rules name, with what to do; null when none (nothing to do per row).
 */
export class ColumnRuleSet {
  private readonly patterns: CompiledPattern[];

  constructor(readonly rules: ColumnRules) {
    this.patterns = rules.rules.map(compile);
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  get skipExcludedOnlyUpdates(): boolean {
    return this.rules.skipExcludedOnlyUpdates;
  }

  /** What the rules do to `columns` of schema.table; exclude wins over mask. Null when nothing. */
  forTable(schema: string, table: string, columns: readonly string[]): Map<string, ColumnAction> | null {
    const tablePatterns = this.patterns.filter(
      (p) => (p.schema === null || p.schema.test(schema)) && p.table.test(table),
    );
    if (tablePatterns.length === 0) return null;
    let actions: Map<string, ColumnAction> | null = null;
    for (const column of columns) {
      let action: ColumnAction | undefined;
      for (const pattern of tablePatterns) {
        if (!pattern.column.test(column)) continue;
        action = pattern.action;
        if (action === "exclude") break;
      }
      if (action) (actions ??= new Map()).set(column, action);
    }
    return actions;
  }
}

/** Reads what the store holds (jsonb, possibly from an older shape) without failing the worker. */
export function storedColumnRules(value: unknown): ColumnRules {
  const parsed = columnRulesSchema.safeParse(value);
  return parsed.success ? parsed.data : NO_COLUMN_RULES;
}
