import { sql } from "drizzle-orm";
import type { Principal } from "../auth/principal";
import { recordAudit } from "../audit/record";
import type { Db, Queryable } from "../db/client";
import type { RetentionRule } from "./input";

/** GET /api/retention's answer. */
export type RetentionSettings = {
  /** The environments that have databases (whatever their names), for the settings page's rows. */
  environments: string[];
  /** Every rule, environments first, then their tables. No rule for an environment: kept forever. */
  rules: RetentionRule[];
  /** The last change of the rules: when and by whom; null while there are none. */
  lastUpdate: { at: Date; by: string | null } | null;
};

type RuleRow = {
  environment: string;
  table: string;
  days: number | null;
  archive: boolean;
  updated_at: Date;
  updated_by: string | null;
};

async function readRules(db: Queryable): Promise<RuleRow[]> {
  const found = await db.execute<RuleRow>(sql`
    select environment, "table", days, archive, updated_at, updated_by from retention_rules
     order by environment, "table"`);
  return found.rows;
}

function asRule(row: RuleRow): RetentionRule {
  return {
    environment: row.environment,
    table: row.table === "" ? null : row.table,
    days: row.days,
    archive: row.archive,
  };
}

/** The retention rules and the environments they can be set for. */
export async function readRetention(db: Queryable): Promise<RetentionSettings> {
  const [rows, environments] = await Promise.all([
    readRules(db),
    db.execute<{ environment: string }>(sql`select distinct environment from sources order by environment`),
  ]);
  const newest = rows.reduce<RuleRow | null>((a, b) => (a === null || b.updated_at > a.updated_at ? b : a), null);
  return {
    environments: environments.rows.map((row) => row.environment),
    rules: rows.map(asRule),
    lastUpdate: newest ? { at: newest.updated_at, by: newest.updated_by } : null,
  };
}

/**
 * Makes `rules` the whole set, in one transaction: rules left out are removed, new ones added, changed ones
 * updated (unchanged ones keep their time and author). Audited as `retention.update` with the rules before and
 * after. Concurrent replacements queue behind one another (the table lock), so neither sees half of the other.
 */
export async function replaceRetentionRules(
  db: Db,
  principal: Principal,
  rules: readonly RetentionRule[],
): Promise<RetentionSettings> {
  const by = principal.kind === "user" ? principal.email : `token ${principal.name}`;
  await db.transaction(async (tx) => {
    await tx.execute(sql`lock table retention_rules in share row exclusive mode`);
    const before = (await readRules(tx)).map(asRule);
    const keys = rules.map((rule) => sql`(${rule.environment}, ${rule.table ?? ""})`);
    await tx.execute(
      keys.length === 0
        ? sql`delete from retention_rules`
        : sql`delete from retention_rules where (environment, "table") not in (${sql.join(keys, sql`, `)})`,
    );
    for (const rule of rules) {
      await tx.execute(sql`
        insert into retention_rules (environment, "table", days, archive, updated_at, updated_by)
        values (${rule.environment}, ${rule.table ?? ""}, ${rule.days}, ${rule.archive}, now(), ${by})
        on conflict (environment, "table") do update
           set days = excluded.days, archive = excluded.archive, updated_at = now(), updated_by = excluded.updated_by
         where (retention_rules.days, retention_rules.archive) is distinct from (excluded.days, excluded.archive)`);
    }
    const after = (await readRules(tx)).map(asRule);
    await recordAudit(
      tx,
      principal,
      "retention.update",
      { type: "retention", id: "rules", label: "retention rules" },
      {
        before,
        after,
      },
    );
  });
  return readRetention(db);
}
