import type pg from "pg";
import { connectSource, queryFailure, type SourceConnection } from "./connection";
import {
  AuthenticationFailed,
  DatabaseMissing,
  InsufficientPrivilege,
  NoFreeSlots,
  NoFreeWalSenders,
  SourceError,
  SslFailed,
  UnsupportedVersion,
  WalLevelNotLogical,
} from "./errors";
import {
  HOST_KIND_LABELS,
  hostFix,
  resolveHostKind,
  SERVER_MARK_ROLES,
  SERVER_MARK_SETTINGS,
  type HostKind,
  type ServerMarks,
} from "./host-kind";
import { Invalid, type AppError } from "../errors";
import type { TableRef } from "./input";
import { roleSql } from "./role-sql";
import { quoteIdent, quoteLiteral } from "./sql";
import { gatherTableAccess, ownerSql, tableSetup, type AccessFacts, type TableAccess } from "./table-access";

export type CheckId =
  | "reachable"
  | "tls"
  | "authentication"
  | "database"
  | "version"
  | "wal_level"
  | "replication"
  | "replication_slots"
  | "wal_senders"
  | "publication"
  | "tables"
  | "select"
  | "names";

export type Check = { id: CheckId; label: string; ok: boolean; message: string; fix?: string };

export type CheckReport = {
  ok: boolean;
  checks: Check[];
  /** The kind of host the fixes are for, and whether it was detected (not chosen). */
  hostKind: { kind: HostKind; label: string; detected: boolean };
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

const LABELS: Record<CheckId, string> = {
  reachable: "Server reachable",
  tls: "TLS",
  authentication: "Authentication",
  database: "Database exists",
  version: "PostgreSQL 14 or later",
  wal_level: "wal_level = logical",
  replication: "REPLICATION privilege",
  replication_slots: "Free replication slot",
  wal_senders: "Free WAL sender",
  publication: "Can create a publication",
  tables: "Chosen tables exist",
  select: "SELECT on the chosen tables",
  names: "Names free or already ours",
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

function check(id: CheckId, ok: boolean, message: string, fix?: string): Check {
  return fix && !ok ? { id, label: LABELS[id], ok, message, fix } : { id, label: LABELS[id], ok, message };
}

/** The kind of host the facts show, unless the user chose one. */
export function hostKindOf(facts: SourceFacts, host: string, chosen?: HostKind | null): HostKind {
  // The rds_replication role is there on every RDS / Aurora server, whatever the settings show.
  return resolveHostKind(chosen ?? (facts.isRds ? "rds" : null), host, facts.serverMarks);
}

/**
 * Judges the facts. Ordered: the first failing check is the one to fix first. `kind`: the host the fixes are
 * written for. `read`: tables the read-only role path wants to read (checked for SELECT with `requested`).
 */
export function evaluateChecks(
  facts: SourceFacts,
  requested: readonly TableRef[] = [],
  kind: HostKind = facts.isRds ? "rds" : "self-managed",
  read: readonly TableRef[] = [],
): Check[] {
  const user = quoteIdent(facts.currentUser);
  const fixFor = (id: Parameters<typeof hostFix>[1]) =>
    hostFix(kind, id, {
      role: user,
      host: "",
      port: 0,
      maxReplicationSlots: facts.maxReplicationSlots,
      maxWalSenders: facts.maxWalSenders,
    });
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
      fixFor("wal_level"),
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
      fixFor("replication"),
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
      fixFor("replication_slots"),
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
      fixFor("wal_senders"),
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
  checks.push(namesCheck(facts));
  const readable = new Set([...requested, ...read].map((t) => `${t.schema}.${t.table}`));
  const found = [...readable].filter((name) => !facts.missingTables.includes(name)).length;
  if (found > 0) {
    const unreadable = facts.unreadableTables;
    checks.push(
      check(
        "select",
        unreadable.length === 0,
        unreadable.length === 0
          ? `${facts.currentUser} may read ${found === 1 ? "the chosen table" : `the ${found} chosen tables`}`
          : `${facts.currentUser} may not SELECT from ${unreadable.join(", ")}: Retrace reads a table to take ` +
              "its baseline and to check a revert before running it.",
        "Run as each table's owner (or a superuser; a GRANT by anyone else grants nothing):\n" +
          unreadable.map((name) => `GRANT SELECT ON ${quoteQualified(name)} TO ${user};`).join("\n"),
      ),
    );
  }
  return checks;
}

/**
 * Retrace names its slot and publication retrace_<its id>, so its own are always free; what this reports is
 * what another Retrace (or a removal that could not clean up) left here. It never blocks connecting, but an
 * inactive slot holds WAL on the server until it is dropped.
 */
export function namesCheck(facts: SourceFacts): Check {
  const ours = facts.ours ?? new Map<string, string>();
  const oursNote = [...new Set([...facts.foreignNames.slots.map((s) => s.name), ...facts.foreignNames.publications])]
    .filter((name) => ours.has(name))
    .map((name) => `${name} is ${JSON.stringify(ours.get(name))}'s, connected in this Retrace.`)
    .join(" ");
  const slots = facts.foreignNames.slots.filter((s) => !ours.has(s.name));
  const publications = facts.foreignNames.publications.filter((p) => !ours.has(p));
  if (slots.length === 0 && publications.length === 0) {
    return check(
      "names",
      true,
      oursNote
        ? `Retrace's names (retrace_<id>) are free. ${oursNote}`
        : "No other Retrace slot or publication here: Retrace's names (retrace_<id>) are free.",
    );
  }
  const inactive = slots.filter((s) => !s.active);
  const listed = [
    ...slots.map((s) => `${s.name} (slot, ${s.active ? "streaming" : "inactive"})`),
    ...publications.map((p) => `${p} (publication)`),
  ].join(", ");
  const message =
    `Retrace's new names are free, but ${listed} ${slots.length + publications.length === 1 ? "is" : "are"} here ` +
    "already: another Retrace's, or left by a database removed without its cleanup." +
    (inactive.length > 0 ? " An inactive slot keeps WAL on the server's disk until it is dropped." : "") +
    (oursNote ? ` ${oursNote}` : "");
  const fix =
    inactive.length > 0 || publications.length > 0
      ? "If no Retrace uses them (see Databases in every Retrace connected to this server), drop them:\n" +
        [
          ...inactive.map((s) => `SELECT pg_drop_replication_slot(${quoteLiteral(s.name)});`),
          ...publications.map((p) => `DROP PUBLICATION ${quoteIdent(p)};`),
        ].join("\n")
      : undefined;
  return fix ? { id: "names", label: LABELS.names, ok: true, message, fix } : check("names", true, message);
}

/** "schema.table" (split at the first dot, as the API names tables) quoted for SQL. */
function quoteQualified(name: string): string {
  const dot = name.indexOf(".");
  return `${quoteIdent(name.slice(0, dot))}.${quoteIdent(name.slice(dot + 1))}`;
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

/** The check a failure to connect fails, by its error; the checks before it passed. */
const CONNECT_STEPS: { id: CheckId; failedBy: (error: SourceError) => boolean }[] = [
  { id: "reachable", failedBy: (e) => e.code === "source_unreachable" },
  { id: "tls", failedBy: (e) => e instanceof SslFailed },
  { id: "authentication", failedBy: (e) => e instanceof AuthenticationFailed },
  { id: "database", failedBy: (e) => e instanceof DatabaseMissing },
];

function tlsMessage(conn: SourceConnection, encrypted: boolean): string {
  if (!encrypted) {
    return conn.sslMode === "disable"
      ? 'Not encrypted (SSL mode "disable"): data and password cross the network in clear.'
      : 'Not encrypted: the server does not offer SSL, so "prefer" fell back to an unencrypted connection.';
  }
  switch (conn.sslMode) {
    case "verify-full":
      return (
        `Encrypted; the certificate is signed by ${conn.sslRootCert ? "the CA certificate given" : "a trusted CA"} ` +
        `and issued for ${conn.host}.`
      );
    case "require":
    case "prefer":
      return `Encrypted, but "${conn.sslMode}" accepts any certificate: use "verify-full" to know it is your server.`;
    case "disable":
      return "Encrypted.";
  }
}

/** A failed connection as checks: the steps it got through, then the one that failed. */
export function connectionFailure(error: SourceError, conn: SourceConnection, kind: HostKind): Check[] {
  const at = CONNECT_STEPS.findIndex((step) => step.failedBy(error));
  const failedId = at >= 0 ? (CONNECT_STEPS[at]?.id ?? "reachable") : "reachable";
  const passed = CONNECT_STEPS.slice(0, Math.max(at, 0)).map(({ id }) =>
    check(
      id,
      true,
      id === "reachable"
        ? `${conn.host}:${conn.port} answered`
        : id === "tls"
          ? conn.sslMode === "disable"
            ? 'Not encrypted (SSL mode "disable").'
            : `SSL mode "${conn.sslMode}" accepted`
          : `${conn.username} signed in`,
    ),
  );
  let fix = error.fix;
  const ctx = { role: quoteIdent(conn.username), host: conn.host, port: conn.port };
  // Network and certificate trouble is where hosts differ most: their own fix, unless the error knows better
  // (a host name that does not resolve).
  // A host refused by this instance's settings (lib/sources/access.ts) keeps the fix naming the setting.
  const refused = error.code === "host_not_allowed";
  if (failedId === "reachable" && kind !== "self-managed" && !/resolved/.test(error.message) && !refused) {
    fix = hostFix(kind, "reachable", ctx);
  }
  if (failedId === "tls" && kind !== "self-managed" && !/not issued for the host/.test(error.message)) {
    fix = `${hostFix(kind, "tls", ctx)}\n${error.fix ?? ""}`.trim();
  }
  const failed: Check = { id: failedId, label: LABELS[failedId], ok: false, message: error.message };
  return [...passed, fix ? { ...failed, fix } : failed];
}

function kindReport(kind: HostKind, chosen: HostKind | null | undefined): CheckReport["hostKind"] {
  return { kind, label: HOST_KIND_LABELS[kind], detected: !chosen };
}

/**
 * Connects and runs every check; a failed connection is reported as the connection step that failed (reachable,
 * TLS, authentication, database), after the ones it passed.
 */
export async function checkSource(
  conn: SourceConnection,
  tables: readonly TableRef[] = [],
  options: {
    hostKind?: HostKind | null;
    readTables?: readonly TableRef[];
    /** Slot and publication names of the databases connected in this Retrace, with their display names. */
    ours?: Map<string, string>;
  } = {},
): Promise<CheckReport> {
  const read = options.readTables ?? [];
  let client: pg.Client;
  try {
    client = await connectSource(conn);
  } catch (error) {
    if (!(error instanceof SourceError)) throw error;
    const kind = resolveHostKind(options.hostKind, conn.host);
    return {
      ok: false,
      checks: connectionFailure(error, conn, kind),
      hostKind: kindReport(kind, options.hostKind),
      roleSql: roleSql(conn.database, { hostKind: kind, tables: read }),
    };
  }
  try {
    const facts = { ...(await gatherFacts(client, tables, null, read)), ours: options.ours };
    const kind = hostKindOf(facts, conn.host, options.hostKind);
    const checks = [...connectedChecks(conn, facts), ...evaluateChecks(facts, tables, kind, read)];
    return {
      ok: checks.every((c) => c.ok),
      checks,
      hostKind: kindReport(kind, options.hostKind),
      roleSql: roleSql(conn.database, {
        schemas: facts.schemas,
        owners: facts.schemaOwners,
        hostKind: kind,
        tables: read,
      }),
    };
  } catch (error) {
    // Connected, and then the server went silent or away: reported as the connection step it failed.
    const failure = queryFailure(error, conn);
    if (!failure) throw error;
    const kind = resolveHostKind(options.hostKind, conn.host);
    return {
      ok: false,
      checks: connectionFailure(failure, conn, kind),
      hostKind: kindReport(kind, options.hostKind),
      roleSql: roleSql(conn.database, { hostKind: kind, tables: read }),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The connection steps, all passed. */
export function connectedChecks(conn: SourceConnection, facts: SourceFacts): Check[] {
  return [
    check("reachable", true, `${conn.host}:${conn.port} answered`),
    check("tls", true, tlsMessage(conn, facts.ssl)),
    check("authentication", true, `Signed in as ${facts.currentUser}`),
    check("database", true, `Database ${facts.database} exists`),
  ];
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
    case "select":
      return new InsufficientPrivilege(failed.message, failed.fix);
    case "tables":
      return new Invalid(failed.message);
    case "names":
      return new SourceError("provisioning_failed", failed.message, failed.fix);
    case "reachable":
      return new SourceError("source_unreachable", failed.message, failed.fix);
    case "tls":
      return new SslFailed(failed.message, failed.fix);
    case "authentication":
      return new AuthenticationFailed(failed.message, failed.fix);
    case "database":
      return new DatabaseMissing(failed.message, failed.fix);
  }
}
