import type pg from "pg";
import { connectSource, type SourceConnection } from "./connection";
import {
  InsufficientPrivilege,
  NoFreeSlots,
  NoFreeWalSenders,
  SourceError,
  UnsupportedVersion,
  WalLevelNotLogical,
} from "./errors";
import { Invalid, type AppError } from "../errors";
import type { TableRef } from "./input";
import { roleSql } from "./role-sql";
import { quoteIdent } from "./sql";
import { gatherTableAccess, ownerSql, tableSetup, type AccessFacts, type TableAccess } from "./table-access";

export type CheckId =
  | "connection"
  | "version"
  | "wal_level"
  | "replication"
  | "replication_slots"
  | "wal_senders"
  | "publication"
  | "tables";

export type Check = { id: CheckId; label: string; ok: boolean; message: string; fix?: string };

export type CheckReport = {
  ok: boolean;
  checks: Check[];
  /** SQL that creates a dedicated least-privilege role for Retrace, ready to copy. */
  roleSql: string;
};

/** What the checks are decided on; gathered by `gatherFacts`, judged by `evaluateChecks` (pure). */
export type SourceFacts = {
  versionNum: number;
  version: string;
  currentUser: string;
  database: string;
  walLevel: string;
  maxReplicationSlots: number;
  usedReplicationSlots: number;
  maxWalSenders: number;
  usedWalSenders: number;
  isSuperuser: boolean;
  hasReplication: boolean;
  /** The server is Amazon RDS / Aurora (the rds_replication role exists). */
  isRds: boolean;
  isRdsReplicationMember: boolean;
  canCreateInDatabase: boolean;
  /** Schemas that hold user tables (for the role SQL). */
  schemas: string[];
  /** Owners of user tables the current user cannot act as, with how many tables each owns. */
  foreignOwners: { owner: string; tables: number }[];
  /** Requested tables that do not exist. */
  missingTables: string[];
  /** Who may do what tracking the requested tables takes, and what is done already. */
  access: AccessFacts;
};

const LABELS: Record<CheckId, string> = {
  connection: "Connection",
  version: "PostgreSQL 14 or later",
  wal_level: "wal_level = logical",
  replication: "REPLICATION privilege",
  replication_slots: "Free replication slot",
  wal_senders: "Free WAL sender",
  publication: "Can create a publication",
  tables: "Chosen tables exist",
};

const RESTART = "-- then restart PostgreSQL (this setting only changes at server start)";

/** `publicationName`: the source's publication, once it is connected (null before). */
export async function gatherFacts(
  client: pg.Client,
  tables: readonly TableRef[] = [],
  publicationName: string | null = null,
): Promise<SourceFacts> {
  const { rows } = await client.query<{
    version_num: number;
    version: string;
    current_user: string;
    database: string;
    wal_level: string;
    max_slots: number;
    used_slots: number;
    max_wal_senders: number;
    used_wal_senders: number;
    rolsuper: boolean;
    rolreplication: boolean;
    is_rds: boolean;
    rds_member: boolean;
    can_create: boolean;
  }>(`
    select current_setting('server_version_num')::int as version_num,
           current_setting('server_version') as version,
           current_user::text as current_user,
           current_database()::text as database,
           current_setting('wal_level') as wal_level,
           current_setting('max_replication_slots')::int as max_slots,
           (select count(*)::int from pg_replication_slots) as used_slots,
           current_setting('max_wal_senders')::int as max_wal_senders,
           (select count(*)::int from pg_stat_activity where backend_type = 'walsender') as used_wal_senders,
           r.rolsuper,
           r.rolreplication,
           exists (select 1 from pg_roles where rolname = 'rds_replication') as is_rds,
           coalesce((select pg_has_role(current_user, g.oid, 'MEMBER')
                       from pg_roles g where g.rolname = 'rds_replication'), false) as rds_member,
           has_database_privilege(current_database(), 'CREATE') as can_create
      from pg_roles r
     where r.rolname = current_user`);
  const base = rows[0];
  if (!base) throw new Error("could not read the current role from pg_roles");

  const owners = await client.query<{ schema: string; owner: string; tables: number; owned: boolean }>(`
    select n.nspname::text as schema,
           pg_get_userbyid(c.relowner)::text as owner,
           count(*)::int as tables,
           pg_has_role(current_user, c.relowner, 'USAGE') as owned
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
     where c.relkind in ('r', 'p') and not c.relispartition
       and n.nspname not in ('pg_catalog', 'information_schema')
       and n.nspname not like 'pg\\_toast%' and n.nspname not like 'pg\\_temp%'
     group by 1, 2, 4`);
  const schemas = [...new Set(owners.rows.map((r) => r.schema))].sort();
  const foreign = new Map<string, number>();
  for (const row of owners.rows) {
    if (!row.owned) foreign.set(row.owner, (foreign.get(row.owner) ?? 0) + row.tables);
  }

  let missingTables: string[] = [];
  if (tables.length > 0) {
    const found = await client.query<{ schema: string; name: string; found: boolean }>(
      `select t.schema, t.name,
              exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                       where n.nspname = t.schema and c.relname = t.name and c.relkind in ('r', 'p')) as found
         from unnest($1::text[], $2::text[]) as t(schema, name)`,
      [tables.map((t) => t.schema), tables.map((t) => t.table)],
    );
    missingTables = found.rows.filter((r) => !r.found).map((r) => `${r.schema}.${r.name}`);
  }

  return {
    versionNum: base.version_num,
    version: base.version,
    currentUser: base.current_user,
    database: base.database,
    walLevel: base.wal_level,
    maxReplicationSlots: base.max_slots,
    usedReplicationSlots: base.used_slots,
    maxWalSenders: base.max_wal_senders,
    usedWalSenders: base.used_wal_senders,
    isSuperuser: base.rolsuper,
    hasReplication: base.rolreplication,
    isRds: base.is_rds,
    isRdsReplicationMember: base.rds_member,
    canCreateInDatabase: base.can_create,
    schemas,
    foreignOwners: [...foreign].map(([owner, count]) => ({ owner, tables: count })),
    missingTables,
    access: await gatherTableAccess(client, tables, publicationName),
  };
}

function check(id: CheckId, ok: boolean, message: string, fix?: string): Check {
  return fix && !ok ? { id, label: LABELS[id], ok, message, fix } : { id, label: LABELS[id], ok, message };
}

/** Judges the facts. Ordered: the first failing check is the one to fix first. */
export function evaluateChecks(facts: SourceFacts, requested: readonly TableRef[] = []): Check[] {
  const user = quoteIdent(facts.currentUser);
  const checks: Check[] = [];

  // pgoutput protocol 2 with logical messages (application context) needs PostgreSQL 14.
  const versionOk = facts.versionNum >= 140000;
  checks.push(
    check(
      "version",
      versionOk,
      versionOk
        ? `PostgreSQL ${facts.version}`
        : `PostgreSQL ${facts.version} is too old: ` +
            "Retrace streams with pgoutput protocol 2 and logical messages, which need PostgreSQL 14 or later.",
      "Upgrade the server to PostgreSQL 14 or later.",
    ),
  );
  // Older servers lack the catalog columns the other checks read.
  if (!versionOk) return checks;

  const walOk = facts.walLevel === "logical";
  checks.push(
    check(
      "wal_level",
      walOk,
      walOk ? "wal_level is logical" : `wal_level is "${facts.walLevel}"; logical replication needs "logical".`,
      facts.isRds
        ? "-- Amazon RDS / Aurora: in the DB parameter group set\n" +
            "rds.logical_replication = 1\n" +
            "-- then reboot the instance"
        : `ALTER SYSTEM SET wal_level = logical;\n${RESTART}`,
    ),
  );

  const replicationOk = facts.isSuperuser || facts.hasReplication || facts.isRdsReplicationMember;
  checks.push(
    check(
      "replication",
      replicationOk,
      replicationOk
        ? `${facts.currentUser} may use replication` +
            (facts.isSuperuser ? " (superuser)" : facts.hasReplication ? " (REPLICATION)" : " (rds_replication)")
        : `User ${facts.currentUser} lacks the REPLICATION privilege needed to create and read a replication slot.`,
      facts.isRds ? `GRANT rds_replication TO ${user};` : `ALTER ROLE ${user} WITH REPLICATION;`,
    ),
  );

  const freeSlots = facts.maxReplicationSlots - facts.usedReplicationSlots;
  checks.push(
    check(
      "replication_slots",
      freeSlots >= 1,
      freeSlots >= 1
        ? `${freeSlots} of ${facts.maxReplicationSlots} replication slots free`
        : `All ${facts.maxReplicationSlots} replication slots are in use ` +
            `(max_replication_slots = ${facts.maxReplicationSlots}).`,
      `ALTER SYSTEM SET max_replication_slots = ${facts.maxReplicationSlots + 4};\n${RESTART}\n` +
        "-- or drop a slot nobody uses: SELECT pg_drop_replication_slot('<slot_name>');",
    ),
  );

  const freeSenders = facts.maxWalSenders - facts.usedWalSenders;
  checks.push(
    check(
      "wal_senders",
      freeSenders >= 1,
      freeSenders >= 1
        ? `${freeSenders} of ${facts.maxWalSenders} WAL senders free`
        : `All ${facts.maxWalSenders} WAL senders are busy (max_wal_senders = ${facts.maxWalSenders}).`,
      `ALTER SYSTEM SET max_wal_senders = ${facts.maxWalSenders + 4};\n${RESTART}`,
    ),
  );

  checks.push(publicationCheck(facts));

  if (requested.length > 0) {
    const ok = facts.missingTables.length === 0;
    checks.push(
      check(
        "tables",
        ok,
        ok
          ? `${requested.length} table${requested.length === 1 ? "" : "s"} found`
          : `Not found in ${facts.database}: ${facts.missingTables.join(", ")}.`,
        "Check the schema and table names (they are case-sensitive).",
      ),
    );
  }
  return checks;
}

function publicationCheck(facts: SourceFacts): Check {
  const user = quoteIdent(facts.currentUser);
  if (facts.isSuperuser) return check("publication", true, `${facts.currentUser} is a superuser`);
  if (!facts.canCreateInDatabase && !facts.access.publication) {
    return check(
      "publication",
      false,
      `User ${facts.currentUser} cannot create publications in database ${facts.database} ` +
        "(it needs CREATE on the database).",
      `GRANT CREATE ON DATABASE ${quoteIdent(facts.database)} TO ${user};`,
    );
  }
  if (facts.access.tables.length > 0) return tablesAccessCheck(facts.access);
  const foreign = facts.foreignOwners.reduce((n, o) => n + o.tables, 0);
  return check(
    "publication",
    true,
    foreign === 0
      ? `${facts.currentUser} can create a publication and owns every table`
      : `${facts.currentUser} can create a publication; ${foreign} table${foreign === 1 ? " is" : "s are"} owned by ` +
          `other roles (${facts.foreignOwners.map((o) => o.owner).join(", ")}): when you choose them, ` +
          "Retrace gives the SQL their owner runs to publish them.",
  );
}

const tableNames = (tables: readonly TableAccess[]) => tables.map((t) => `${t.table.schema}.${t.table.table}`);

/**
 * Whether Retrace's role can track the chosen tables: each is ready (published with REPLICA
 * IDENTITY FULL, by Retrace or by its owner), or what is missing Retrace's role may do itself.
 * Otherwise the fix is the SQL for the owners, once the publication exists.
 */
export function tablesAccessCheck(access: AccessFacts): Check {
  const virtual = access.tables.flatMap((t) =>
    t.relations
      .filter((r) => r.virtualColumns.length > 0)
      .map((r) => `${r.schema}.${r.table} (${r.virtualColumns.join(", ")})`),
  );
  if (virtual.length > 0) {
    return check(
      "publication",
      false,
      `Retrace cannot track ${virtual.join(", ")}: a table with virtual generated columns cannot be published ` +
        "with REPLICA IDENTITY FULL (PostgreSQL 18 would refuse its UPDATEs and DELETEs), and its changes " +
        "would come without them. Nothing was changed.",
      "Leave the table untracked, or make its generated columns STORED (they are then published and recorded): " +
        "drop the column and add it again as GENERATED ALWAYS AS (…) STORED.",
    );
  }
  const needOwner = access.tables.filter((t) => tableSetup(access, t) === "owner");
  if (needOwner.length > 0) {
    const owned = needOwner.map((t) => {
      const root = t.relations[0];
      const owner = root ? ` (owner ${root.owner}${root.ownerIsSuperuser ? ", a superuser" : ""})` : "";
      return `${t.table.schema}.${t.table.table}${owner}`;
    });
    const message =
      `${access.role} cannot make ${owned.join(", ")} ready to track: only a table's owner may set its ` +
      "REPLICA IDENTITY, and adding a table to a publication takes owning both the table and the publication. ";
    return access.publication
      ? check(
          "publication",
          false,
          `${message}Have the owners run the SQL below, then save the tables again; nothing was changed.`,
          ownerSql(access, access.publication.name),
        )
      : check(
          "publication",
          false,
          `${message}Connect without them first, then choose them under Tables: ` +
            "Retrace then gives the SQL their owners run to add them to its publication.",
        );
  }
  const ready = tableNames(access.tables.filter((t) => tableSetup(access, t) === "ready"));
  const rest = access.tables.length - ready.length;
  return check(
    "publication",
    true,
    [
      ready.length > 0 ? `${ready.join(", ")}: ready (in the publication, REPLICA IDENTITY FULL).` : "",
      rest > 0 ? `${access.role} can publish ${rest === 1 ? "the chosen table" : `the ${rest} chosen tables`}.` : "",
    ]
      .filter(Boolean)
      .join(" "),
  );
}

/** Connects and runs every check; a failed connection is reported as the first (failed) check. */
export async function checkSource(conn: SourceConnection, tables: readonly TableRef[] = []): Promise<CheckReport> {
  let client: pg.Client;
  try {
    client = await connectSource(conn);
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    const failed: Check = { id: "connection", label: LABELS.connection, ok: false, message: error.message };
    return { ok: false, checks: [error.fix ? { ...failed, fix: error.fix } : failed], roleSql: roleSql(conn.database) };
  }
  try {
    const facts = await gatherFacts(client, tables);
    const checks = [connectedCheck(conn, facts), ...evaluateChecks(facts, tables)];
    return { ok: checks.every((c) => c.ok), checks, roleSql: roleSql(conn.database, facts.schemas, facts.isRds) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function connectedCheck(conn: SourceConnection, facts: SourceFacts): Check {
  return check("connection", true, `Connected to ${conn.host}:${conn.port}/${facts.database} as ${facts.currentUser}`);
}

/** The domain error a failed check stands for (what POST /api/databases answers). */
export function errorForCheck(failed: Check): AppError {
  switch (failed.id) {
    case "version":
      return new UnsupportedVersion(failed.message, failed.fix);
    case "wal_level":
      return new WalLevelNotLogical(failed.message, failed.fix);
    case "replication":
    case "publication":
      return new InsufficientPrivilege(failed.message, failed.fix);
    case "replication_slots":
      return new NoFreeSlots(failed.message, failed.fix);
    case "wal_senders":
      return new NoFreeWalSenders(failed.message, failed.fix);
    case "tables":
      return new Invalid(failed.message);
    case "connection":
      return new SourceError("source_unreachable", failed.message, failed.fix);
  }
}
