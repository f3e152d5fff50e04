/**
 * What the connect checks are decided on, read from the source's catalogs in a few queries; judged (pure) by
 * evaluate-checks.ts.
 */
import type pg from "pg";
import { SERVER_MARK_ROLES, SERVER_MARK_SETTINGS, type ServerMarks } from "./host-kind";
import type { TableRef } from "./input";
import { gatherTableAccess, type AccessFacts } from "./table-access";

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
  /** Who owns user tables in each schema (one default-privileges line each in the role SQL). */
  schemaOwners: { schema: string; owner: string }[];
  /** Provider settings and roles present: what kind of host this is (lib/sources/host-kind.ts). */
  serverMarks: ServerMarks;
  /** Whether this session is encrypted (pg_stat_ssl). */
  ssl: boolean;
  /** Chosen tables (that exist) the current user may not SELECT. */
  unreadableTables: string[];
  /**
   * Slots (of this database) and publications named like Retrace's (retrace_<32 hex>), other than the source's
   * own: another Retrace's, or left by a database removed without its cleanup.
   */
  foreignNames: { slots: { name: string; active: boolean }[]; publications: string[] };
  /** Of those, the ones a database connected in this Retrace uses (name -> its display name), when known. */
  ours?: Map<string, string>;
  /** Owners of user tables the current user cannot act as, with how many tables each owns. */
  foreignOwners: { owner: string; tables: number }[];
  /** Requested tables that do not exist. */
  missingTables: string[];
  /** Who may do what tracking the requested tables takes, and what is done already. */
  access: AccessFacts;
};

/**
 * `publicationName`: the source's publication, once it is connected (null before). `readTables`: tables to check
 * SELECT on besides `tables` (the read-only role path's choice).
 */
export async function gatherFacts(
  client: pg.Client,
  tables: readonly TableRef[] = [],
  publicationName: string | null = null,
  readTables: readonly TableRef[] = [],
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
    ssl: boolean;
    mark_settings: string[];
    mark_roles: string[];
  }>(
    `
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
           has_database_privilege(current_database(), 'CREATE') as can_create,
           coalesce((select s.ssl from pg_stat_ssl s where s.pid = pg_backend_pid()), false) as ssl,
           array(select name::text from pg_settings where name = any($1::text[])) as mark_settings,
           array(select rolname::text from pg_roles where rolname = any($2::text[])) as mark_roles
      from pg_roles r
     where r.rolname = current_user`,
    [SERVER_MARK_SETTINGS, SERVER_MARK_ROLES],
  );
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
  const names = await client.query<{ kind: "slot" | "publication"; name: string; active: boolean }>(
    `select 'slot' as kind, slot_name::text as name, active from pg_replication_slots
      where database = current_database() and slot_name ~ '^retrace_[0-9a-f]{32}$' and slot_name <> $1
     union all
     select 'publication', pubname::text, false from pg_publication
      where pubname ~ '^retrace_[0-9a-f]{32}$' and pubname <> $1
     order by 1, 2`,
    [publicationName ?? ""],
  );
  const foreign = new Map<string, number>();
  for (const row of owners.rows) {
    if (!row.owned) foreign.set(row.owner, (foreign.get(row.owner) ?? 0) + row.tables);
  }

  let missingTables: string[] = [];
  let unreadableTables: string[] = [];
  const asked = [...tables, ...readTables];
  if (asked.length > 0) {
    const found = await client.query<{ schema: string; name: string; found: boolean; readable: boolean }>(
      `select t.schema, t.name, c.oid is not null as found,
              coalesce(has_table_privilege(c.oid, 'SELECT'), false) as readable
         from unnest($1::text[], $2::text[]) as t(schema, name)
         left join pg_namespace n on n.nspname = t.schema
         left join pg_class c on c.relnamespace = n.oid and c.relname = t.name and c.relkind in ('r', 'p')`,
      [asked.map((t) => t.schema), asked.map((t) => t.table)],
    );
    const name = (r: { schema: string; name: string }) => `${r.schema}.${r.name}`;
    missingTables = [...new Set(found.rows.filter((r) => !r.found).map(name))];
    unreadableTables = [...new Set(found.rows.filter((r) => r.found && !r.readable).map(name))];
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
    schemaOwners: owners.rows.map((r) => ({ schema: r.schema, owner: r.owner })),
    serverMarks: { settings: base.mark_settings, roles: base.mark_roles },
    ssl: base.ssl,
    unreadableTables,
    foreignNames: {
      slots: names.rows.filter((r) => r.kind === "slot").map((r) => ({ name: r.name, active: r.active })),
      publications: names.rows.filter((r) => r.kind === "publication").map((r) => r.name),
    },
    foreignOwners: [...foreign].map(([owner, count]) => ({ owner, tables: count })),
    missingTables,
    access: await gatherTableAccess(client, tables, publicationName),
  };
}
