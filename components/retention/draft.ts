import type { RetentionJson } from "@/lib/retention/api-types";
import type { RetentionRule } from "@/lib/retention/input";
import type { Keep } from "./keep-choice";

/** The settings page's form: a choice per environment and the tables that have their own. */
export type Draft = {
  environments: { name: string; keep: Keep }[];
  tables: { environment: string; table: string; keep: Keep }[];
};

const FOREVER: Keep = { days: null, archive: false };

/** The form for saved settings: every environment with databases or a rule, in name order. */
export function draftOf(settings: RetentionJson): Draft {
  const names = [...new Set([...settings.environments, ...settings.rules.map((rule) => rule.environment)])].sort();
  const keepOf = (rule: RetentionRule | undefined): Keep =>
    rule ? { days: rule.days, archive: rule.archive } : { ...FOREVER };
  return {
    environments: names.map((name) => ({
      name,
      keep: keepOf(settings.rules.find((rule) => rule.environment === name && rule.table === null)),
    })),
    tables: settings.rules
      .filter((rule): rule is RetentionRule & { table: string } => rule.table !== null)
      .map((rule) => ({ environment: rule.environment, table: rule.table, keep: keepOf(rule) })),
  };
}

/**
 * The rules the form stands for. An environment kept forever needs no rule (none means forever); a table kept
 * forever does (it overrides its environment's).
 */
export function rulesOf(draft: Draft): RetentionRule[] {
  const rule = (environment: string, table: string | null, keep: Keep): RetentionRule => ({
    environment,
    table,
    days: keep.days,
    archive: keep.days !== null && keep.archive,
  });
  return [
    ...draft.environments.filter((e) => e.keep.days !== null).map((e) => rule(e.name, null, e.keep)),
    ...draft.tables.map((t) => rule(t.environment, t.table, t.keep)),
  ];
}

export function draftInvalid(draft: Draft): boolean {
  return [...draft.environments, ...draft.tables].some((row) => row.keep.invalid);
}

/** Whether two rule sets say the same, whatever their order. */
export function sameRules(a: readonly RetentionRule[], b: readonly RetentionRule[]): boolean {
  const text = (rules: readonly RetentionRule[]) =>
    rules
      .map((r) => JSON.stringify([r.environment, r.table ?? "", r.days, r.archive]))
      .sort()
      .join("\n");
  return text(a) === text(b);
}
