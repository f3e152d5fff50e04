import { quoteIdent } from "./sql";

/** SQL for a dedicated least-privilege role; the password is a placeholder, never the user's. */
export function roleSql(database: string, schemas: readonly string[] = ["public"], isRds = false): string {
  const list = schemas.length > 0 ? schemas : ["public"];
  const lines = [
    "-- A dedicated role for Retrace: it reads and replicates; choose your own password.",
    isRds
      ? "CREATE ROLE retrace WITH LOGIN PASSWORD 'choose-a-strong-password';\nGRANT rds_replication TO retrace;"
      : "CREATE ROLE retrace WITH LOGIN REPLICATION PASSWORD 'choose-a-strong-password';",
    `GRANT CONNECT, CREATE ON DATABASE ${quoteIdent(database)} TO retrace;`,
    ...list.flatMap((schema) => [
      `GRANT USAGE ON SCHEMA ${quoteIdent(schema)} TO retrace;`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA ${quoteIdent(schema)} TO retrace;`,
      `ALTER DEFAULT PRIVILEGES IN SCHEMA ${quoteIdent(schema)} GRANT SELECT ON TABLES TO retrace;`,
    ]),
    "-- Tables retrace does not own: only their owner may set REPLICA IDENTITY FULL and add them to",
    "-- Retrace's publication. When you choose them, Retrace gives the SQL for the owner to run.",
    "-- Never make retrace a superuser or a member of a role that owns more than the tracked tables.",
  ];
  return lines.join("\n");
}
