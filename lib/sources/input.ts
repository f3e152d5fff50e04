import { z } from "zod";

/** What the connect form and the JSON API send. Client-safe: no server imports. */

export const SSL_MODES = ["disable", "prefer", "require", "verify-full"] as const;
export type SslMode = (typeof SSL_MODES)[number];

export const STANDARD_ENVIRONMENTS = ["production", "staging", "test"] as const;

/** A table as the API names it: "schema.table" (split at the first dot). */
export type TableRef = { schema: string; table: string };

export function parseTableName(name: string): TableRef | null {
  const dot = name.indexOf(".");
  if (dot <= 0 || dot === name.length - 1) return null;
  return { schema: name.slice(0, dot), table: name.slice(dot + 1) };
}

export function formatTableName(ref: TableRef): string {
  return `${ref.schema}.${ref.table}`;
}

export const tableNameSchema = z
  .string({ error: 'Each table must be a string like "public.orders"' })
  .trim()
  .refine((name) => parseTableName(name) !== null, {
    error: (issue) => `"${String(issue.input)}" is not a table name of the form "schema.table"`,
  });

/** Unique table names, kept in the order given. */
export const tableListSchema = z
  .array(tableNameSchema, { error: 'tables must be a list of "schema.table" names' })
  .max(10_000, "At most 10,000 tables")
  .transform((names) => [...new Set(names)]);

export const environmentSchema = z
  .string({ error: "Environment is required" })
  .trim()
  .min(1, "Environment is required")
  .regex(
    /^[a-z][a-z0-9_-]{0,39}$/,
    "Environment must be production, staging, test, or a lowercase slug (letters, digits, - or _; at most 40)",
  );

const portSchema = z.coerce
  .number({ error: "Port must be a number between 1 and 65535" })
  .int("Port must be a whole number between 1 and 65535")
  .min(1, "Port must be between 1 and 65535")
  .max(65535, "Port must be between 1 and 65535");

/** Enough to open a connection: what POST /api/databases/check takes. */
export const connectionInputSchema = z.object({
  host: z.string({ error: "Host is required" }).trim().min(1, "Host is required").max(255, "Host is too long"),
  port: portSchema,
  database: z
    .string({ error: "Database name is required" })
    .trim()
    .min(1, "Database name is required")
    .max(63, "Database name is at most 63 characters"),
  username: z
    .string({ error: "Username is required" })
    .trim()
    .min(1, "Username is required")
    .max(63, "Username is at most 63 characters"),
  // An empty password is legitimate (trust or certificate authentication).
  password: z.string({ error: "Password must be a string (it may be empty)" }).max(1000, "Password is too long"),
  sslMode: z
    .enum(SSL_MODES, { error: "SSL mode must be one of disable, prefer, require, verify-full" })
    .default("prefer"),
});

export type ConnectionInput = z.output<typeof connectionInputSchema>;

/** GET /api/databases/role-sql: the database the role is for, a placeholder until one is typed. */
export const roleSqlQuerySchema = z.object({
  database: z
    .string()
    .trim()
    .max(63, "Database name is at most 63 characters")
    .transform((name) => name || "your_database")
    .default("your_database"),
});

/** POST /api/databases. `name` defaults to the database name. */
export const connectInputSchema = connectionInputSchema
  .extend({
    name: z.string().trim().max(100, "Name is at most 100 characters").optional(),
    environment: environmentSchema,
    tables: tableListSchema.default([]),
    trackNewTables: z.boolean({ error: "trackNewTables must be true or false" }).default(false),
  })
  .transform(({ name, ...rest }) => ({ ...rest, name: name ? name : rest.database }));

export type ConnectInput = z.output<typeof connectInputSchema>;
export type ConnectRequest = z.input<typeof connectInputSchema>;

export const updateTablesSchema = z.object({ tables: tableListSchema });

export const setEnabledSchema = z.object({
  enabled: z.boolean({ error: "enabled must be true or false" }),
});

/** PATCH /api/databases/:id: pause / resume, and "track new tables automatically". */
export const updateDatabaseSchema = z
  .object({
    enabled: z.boolean({ error: "enabled must be true or false" }).optional(),
    trackNewTables: z.boolean({ error: "trackNewTables must be true or false" }).optional(),
  })
  .refine((input) => input.enabled !== undefined || input.trackNewTables !== undefined, {
    error: "enabled must be true or false",
    path: ["enabled"],
  });

/** POST /api/databases/:id/tables/identity: the table whose replica identity to set FULL. */
export const fixIdentitySchema = z.object({ table: tableNameSchema });

export function toTableRefs(names: readonly string[]): TableRef[] {
  return names.flatMap((name) => {
    const ref = parseTableName(name);
    return ref ? [ref] : [];
  });
}
