import { z } from "zod";
import { HOST_KINDS } from "./host-kind";

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

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;

export const sslRootCertSchema = z
  .string({ error: "sslRootCert must be PEM text (-----BEGIN CERTIFICATE----- …)" })
  .max(200_000, "The CA certificate is too long (at most 200,000 characters)")
  .nullish()
  .transform((pem) => (pem?.trim() ? pem.trim() : null))
  .refine((pem) => pem === null || PEM_CERTIFICATE.test(pem), {
    error:
      "The CA certificate must be PEM text, from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE----- " +
      "(a .crt or .pem file; not a private key)",
  })
  .refine((pem) => pem === null || !/PRIVATE KEY-----/.test(pem), {
    error: "That is a private key: paste only the CA's certificate (it is public), never a key",
  });

/** Enough to open a connection: what POST /api/databases/check takes. */
export const connectionInputSchema = z.strictObject({
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
  /**
   * PEM certificates of the CA(s) that signed the server's certificate, for verify-full (public, not a secret).
   * Empty or absent: the CAs Node trusts (public roots and NODE_EXTRA_CA_CERTS).
   */
  sslRootCert: sslRootCertSchema,
});

/** Which kind of host a source is, for the fixes the checks give; absent or null: detected. */
export const hostKindSchema = z
  .enum(HOST_KINDS, { error: `hostKind must be one of ${HOST_KINDS.join(", ")}` })
  .nullish()
  .transform((kind) => kind ?? null);

/** POST /api/databases/check. */
export const checkInputSchema = connectionInputSchema.extend({
  hostKind: hostKindSchema,
  tables: tableListSchema.default([]),
});

export type ConnectionInput = z.output<typeof connectionInputSchema>;

/**
 * GET /api/databases/role-sql: the database the role is for (a placeholder until one is typed), the kind of host,
 * and the tables it reads ("schema.table", comma-separated; none: every table).
 */
export const roleSqlQuerySchema = z.object({
  database: z
    .string()
    .trim()
    .max(63, "Database name is at most 63 characters")
    .transform((name) => name || "your_database")
    .default("your_database"),
  hostKind: z
    .enum(HOST_KINDS, { error: `hostKind must be one of ${HOST_KINDS.join(", ")}` })
    .optional()
    .catch(undefined),
  tables: z
    .string()
    .max(20_000, "tables is too long")
    .default("")
    .transform((list) => splitTableList(list))
    .pipe(tableListSchema),
});

/** "public.orders, public.items" (commas, spaces or new lines between) as a list of names. */
export function splitTableList(list: string): string[] {
  return list
    .split(/[\s,]+/)
    .map((name) => name.trim())
    .filter(Boolean);
}

/** POST /api/databases. `name` defaults to the database name. */
export const connectInputSchema = connectionInputSchema
  .extend({
    name: z.string().trim().max(100, "Name is at most 100 characters").optional(),
    environment: environmentSchema,
    hostKind: hostKindSchema,
    tables: tableListSchema.default([]),
    trackNewTables: z.boolean({ error: "trackNewTables must be true or false" }).default(false),
  })
  .transform(({ name, ...rest }) => ({ ...rest, name: name ? name : rest.database }));

export type ConnectInput = z.output<typeof connectInputSchema>;
export type ConnectRequest = z.input<typeof connectInputSchema>;

export const updateTablesSchema = z.strictObject({ tables: tableListSchema });

export const setEnabledSchema = z.strictObject({
  enabled: z.boolean({ error: "enabled must be true or false" }),
});

/** PATCH /api/databases/:id: pause / resume, and "track new tables automatically". */

/** POST /api/databases/:id/tables/identity: the table whose replica identity to set FULL. */
export const fixIdentitySchema = z.strictObject({ table: tableNameSchema });

export function toTableRefs(names: readonly string[]): TableRef[] {
  return names.flatMap((name) => {
    const ref = parseTableName(name);
    return ref ? [ref] : [];
  });
}
