import type { HostKind } from "./host-kind";
import type { TableRef } from "./input";
import { quoteIdent, quoteTable } from "./sql";

export type RoleSqlOptions = {
  /** Schemas that hold user tables (default: public). */
  schemas?: readonly string[];
  /** Who owns tables in each schema today, when known (from a check): one default-privileges line each. */
  owners?: readonly { schema: string; owner: string }[];
  /** Tables to read: SELECT on these only (default: every table in the schemas, now and later). */
  tables?: readonly TableRef[];
  hostKind?: HostKind;
};

/** Who runs the SQL on each kind of host (the admin user of a managed service is not a superuser). */
const RUN_AS: Record<HostKind, string> = {
  "self-managed": "a superuser (postgres)",
  rds: "the master user (a member of rds_superuser)",
  neon: "the project's owner role (a member of neon_superuser)",
  supabase: "the postgres user (SQL Editor)",
  "cloud-sql": "the postgres user (a member of cloudsqlsuperuser)",
  azure: "the server admin (a member of azure_pg_admin)",
  other: "a superuser, or your provider's admin user",
};

/**
 * SQL for a dedicated least-privilege role; the password is a placeholder, never the user's. It covers tables
 * created later by any owner: `ALTER DEFAULT PRIVILEGES` only applies to tables created by the role it names,
 * so there is one line per role that owns tables in each schema (when known).
 */
export function roleSql(database: string, options: RoleSqlOptions = {}): string {
  const kind = options.hostKind ?? "self-managed";
  const tables = options.tables ?? [];
  const schemas = [
    ...new Set(
      tables.length > 0 ? tables.map((t) => t.schema) : options.schemas?.length ? options.schemas : ["public"],
    ),
  ];
  const managed = kind !== "self-managed";
  const lines = [
    "-- A dedicated role for Retrace: it reads and replicates, and changes no data. Choose your own password.",
    `-- Run as ${RUN_AS[kind]}, connected to ${quoteIdent(database)}.`,
    kind === "rds"
      ? "CREATE ROLE retrace WITH LOGIN PASSWORD 'choose-a-strong-password';\nGRANT rds_replication TO retrace;"
      : "CREATE ROLE retrace WITH LOGIN REPLICATION PASSWORD 'choose-a-strong-password';",
    "-- CREATE on the database lets Retrace create its own publication (nothing else).",
    `GRANT CONNECT, CREATE ON DATABASE ${quoteIdent(database)} TO retrace;`,
    ...schemas.map((schema) => `GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO retrace;`),
  ];
  if (tables.length > 0) {
    lines.push(
      "-- Read access to the chosen tables:",
      ...tables.map((t) => `GRANT SELECT ON ${quoteTable(t)} TO retrace;`),
    );
  } else {
    lines.push("-- Read access to every table there today:");
    lines.push(...schemas.map((schema) => `GRANT SELECT ON ALL TABLES IN SCHEMA ${quoteIdent(schema)} TO retrace;`));
    lines.push(
      "-- And to tables created later. A default privilege only covers tables created by the role it names,",
      "-- so there is a line for each role that creates tables in the schema:",
    );
    for (const schema of schemas) {
      const owners = [...new Set((options.owners ?? []).filter((o) => o.schema === schema).map((o) => o.owner))].sort();
      if (owners.length === 0) {
        lines.push(
          `ALTER DEFAULT PRIVILEGES IN SCHEMA ${quoteIdent(schema)} GRANT SELECT ON TABLES TO retrace;`,
          "-- (that line covers tables the role running it creates; Check connection lists the other owners.)",
        );
      }
      for (const owner of owners) {
        lines.push(
          `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(owner)} IN SCHEMA ${quoteIdent(schema)} ` +
            "GRANT SELECT ON TABLES TO retrace;",
        );
      }
    }
  }
  lines.push(
    managed
      ? "-- Your admin user is not a superuser: the GRANT SELECT and ALTER DEFAULT PRIVILEGES FOR ROLE lines only"
      : "-- Run by a superuser, every line works. Run by anyone else, the GRANT SELECT and ALTER DEFAULT PRIVILEGES",
    managed
      ? "-- work for tables it owns or roles it is a member of. For any other owner, that owner must run them"
      : "-- FOR ROLE lines only work for tables it owns or roles it is a member of: any other owner must run them",
    "-- (PostgreSQL then says: no privileges were granted).",
    "-- Tables retrace does not own: only their owner may set REPLICA IDENTITY FULL and add them to Retrace's",
    "-- publication. When you choose them, Retrace gives the SQL for the owner to run.",
    "-- Never make retrace a superuser or a member of a role that owns more than the tracked tables.",
  );
  return lines.join("\n");
}
