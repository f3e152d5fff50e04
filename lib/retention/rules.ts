import type pg from "pg";

/** A retention rule (lib/db/schema/retention.ts): `table` '' is the whole environment's. */
export type RetentionRule = { environment: string; table: string; days: number | null; archive: boolean };

/** What applies to a bucket: keep `days` (null = forever), archive before dropping or not. */
export type Retention = { days: number | null; archive: boolean };

export const KEEP_FOREVER: Retention = { days: null, archive: false };

type Queryable = Pick<pg.Pool | pg.PoolClient, "query">;

export async function loadRetentionRules(db: Queryable): Promise<RetentionRule[]> {
  const { rows } = await db.query<RetentionRule>(
    `select environment, "table", days, archive from retention_rules order by environment, "table"`,
  );
  return rows;
}

/**
 * The tables ('schema.table') of an environment that have a rule of their own: their changes go to a bucket of
 * their own (changes.bucket), every other table's to the source's ('').
 */
export function bucketTables(rules: readonly RetentionRule[], environment: string): string[] {
  return rules.filter((rule) => rule.environment === environment && rule.table !== "").map((rule) => rule.table);
}

/**
 * How long changes of `bucket` of a source in `environment` are kept: the table's rule for a table's bucket, else
 * the environment's rule (table ''), else forever. A table's changes stored before its rule was set are in the
 * source's bucket (''), so they follow the environment's rule.
 */
export function resolveRetention(rules: readonly RetentionRule[], environment: string, bucket: string): Retention {
  const find = (table: string) => rules.find((rule) => rule.environment === environment && rule.table === table);
  const rule = (bucket !== "" ? find(bucket) : undefined) ?? find("");
  return rule ? { days: rule.days, archive: rule.archive } : KEEP_FOREVER;
}
