import path from "node:path";
import { z } from "zod";

/**
 * The environment, read here and nowhere else. Each process has its schema: `env.web` (the Next.js server),
 * `env.worker`, `env.cli` (the `retrace` command, before the store exists), and `env.log` that all share. A
 * schema is parsed on first access and kept for the life of the process: lazily, so `next build` (which runs
 * without DATABASE_URL) and a CLI that never starts the web app import this module without failing.
 */

const url = z.string().url("DATABASE_URL must be a postgres:// URL");
const secret = z.string().min(32, "RETRACE_SECRET must be at least 32 characters");

const logSchema = z.object({
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
});

/**
 * How many proxies in front of the web app append to X-Forwarded-For: the client's address is the entry this many
 * places from the right (lib/auth/principal.ts). Checked by `retrace start|web` before the web app starts, too.
 */
const trustedProxies = z
  .string()
  .trim()
  .regex(/^(\d|10)$/, "RETRACE_TRUSTED_PROXIES must be a whole number of proxies from 0 to 10 (0: no proxy)")
  .transform(Number)
  .default(0);

/**
 * `retrace start|web|worker` resolves the store and the secret before it spawns web and worker, so by the time
 * either parses its environment DATABASE_URL and RETRACE_SECRET are always set.
 */
const webSchema = logSchema.extend({
  DATABASE_URL: url,
  RETRACE_SECRET: secret,
  // A browser session ends after this long without a request, and this long after sign-in whatever happens.
  RETRACE_SESSION_IDLE_MINUTES: z.coerce.number().int().min(5).max(525_600).default(720),
  RETRACE_SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(8_760).default(168),
  RETRACE_TRUSTED_PROXIES: trustedProxies,
});

const workerSchema = webSchema.extend({
  // Prometheus /metrics and /healthz; port 0 turns the endpoint off.
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  WORKER_METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  // Heartbeat and lag measurement per source; 0 turns heartbeats off.
  RETRACE_HEARTBEAT_SECONDS: z.coerce
    .number()
    .min(0)
    .max(86_400)
    .refine((seconds) => seconds === 0 || seconds >= 0.1, "RETRACE_HEARTBEAT_SECONDS must be 0 (off) or at least 0.1")
    .default(30),
});

const cliSchema = z
  .object({
    DATABASE_URL: url.optional(),
    RETRACE_DATA_DIR: z.string().min(1).default(".retrace"),
    RETRACE_SECRET: secret.optional(),
    RETRACE_STORE_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    HOSTNAME: z.string().default("0.0.0.0"),
    // Passed on to the web app (next-auth's own variable); defaults to http://localhost:<PORT>.
    NEXTAUTH_URL: z.string().optional(),
    NEXT_TELEMETRY_DISABLED: z.string().default("1"),
    // Passed on to the web app as it is (inherited); parsed here so a bad value stops `retrace start` at once.
    RETRACE_TRUSTED_PROXIES: trustedProxies,
    // Passed on to web and worker; with the embedded store it defaults to true (`sourcesSchema`).
    RETRACE_ALLOW_LOCAL_SOURCES: z.string().optional(),
    // Passed on to web and worker as an absolute path: they run in the project's directory, not the caller's.
    RETRACE_STORE_SSL_ROOT_CERT: z.string().trim().min(1).optional(),
  })
  .transform(({ RETRACE_DATA_DIR, RETRACE_STORE_SSL_ROOT_CERT, ...rest }) => ({
    ...rest,
    dataDir: path.resolve(RETRACE_DATA_DIR),
    storeRootCert: RETRACE_STORE_SSL_ROOT_CERT ? path.resolve(RETRACE_STORE_SSL_ROOT_CERT) : undefined,
  }));

/** "true"/"1"/"yes" or "false"/"0"/"no" (any case); anything else is an error naming the variable. */
const flag = (name: string) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .refine((value) => ["true", "1", "yes", "false", "0", "no", ""].includes(value), `${name} must be true or false`)
    .transform((value) => value === "true" || value === "1" || value === "yes")
    .optional()
    .transform((value) => value ?? false);

/**
 * Where the web app and the worker may open source connections, and how long a source may take to answer
 * (lib/sources/access.ts). Read at every connection rather than once, so a test can change it between cases.
 */
const sourcesSchema = z.object({
  // Loopback (127.0.0.0/8, ::1, localhost), link-local (169.254.0.0/16, fe80::/10) and unspecified (0.0.0.0, ::)
  // addresses. `retrace start` with the embedded store turns it on unless it is set.
  RETRACE_ALLOW_LOCAL_SOURCES: flag("RETRACE_ALLOW_LOCAL_SOURCES"),
  // A host that is a path: a Unix socket directory, which reaches a server's `local` pg_hba rules.
  RETRACE_ALLOW_SOCKET_SOURCES: flag("RETRACE_ALLOW_SOCKET_SOURCES"),
  // Every query to a source is given up after this long (the connection has its own 5 s to open).
  RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS: z.coerce.number().min(0.1).max(3_600).default(10),
});

/**
 * TLS to the store (lib/db/connection.ts), for every process that opens it: web, worker, CLI and migrations. The
 * mode comes from DATABASE_URL's `sslmode`; this names the CA file that verifies the store's certificate (what
 * `sslrootcert` in the URL also names; the URL wins). Parsed at each read, so a test can change it between cases.
 */
const storeSchema = z.object({
  RETRACE_STORE_SSL_ROOT_CERT: z.string().trim().min(1, "RETRACE_STORE_SSL_ROOT_CERT must be a file path").optional(),
});

/** Where the worker's expirer writes archives (lib/archive), when a retention rule asks for one. */
const archiveSchema = z.object({
  // A directory, or s3://bucket/prefix; each archived partition gets a directory (a prefix) in it. Unset:
  // partitions to archive are not dropped.
  RETRACE_ARCHIVE_DIR: z
    .string()
    .trim()
    .min(1)
    .refine(
      (where) => !/^s3:\/\//i.test(where) || /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(where),
      "RETRACE_ARCHIVE_DIR must be a directory or s3://bucket/prefix",
    )
    .optional(),
});

/**
 * The S3-compatible bucket archives go to when a location is s3://… (lib/archive/s3.ts). Credentials are not here:
 * the AWS SDK reads its own (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a role), never logged.
 */
const archiveS3Schema = z
  .object({
    // MinIO, Ceph, R2, ...: the server's URL. Unset: AWS S3.
    RETRACE_ARCHIVE_S3_ENDPOINT: z.string().trim().url("RETRACE_ARCHIVE_S3_ENDPOINT must be a URL").optional(),
    RETRACE_ARCHIVE_S3_REGION: z.string().trim().min(1).optional(),
    AWS_REGION: z.string().trim().min(1).optional(),
    // Path-style URLs (endpoint/bucket/key) rather than bucket.endpoint: true by default with an endpoint.
    RETRACE_ARCHIVE_S3_PATH_STYLE: z
      .string()
      .trim()
      .toLowerCase()
      .refine((value) => ["true", "1", "yes", "false", "0", "no"].includes(value), {
        message: "RETRACE_ARCHIVE_S3_PATH_STYLE must be true or false",
      })
      .optional(),
    // Tries per request (the SDK backs off between them).
    RETRACE_ARCHIVE_S3_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
  })
  .transform((raw) => ({
    endpoint: raw.RETRACE_ARCHIVE_S3_ENDPOINT,
    region: raw.RETRACE_ARCHIVE_S3_REGION ?? raw.AWS_REGION ?? "us-east-1",
    forcePathStyle:
      raw.RETRACE_ARCHIVE_S3_PATH_STYLE === undefined
        ? raw.RETRACE_ARCHIVE_S3_ENDPOINT !== undefined
        : ["true", "1", "yes"].includes(raw.RETRACE_ARCHIVE_S3_PATH_STYLE),
    maxAttempts: raw.RETRACE_ARCHIVE_S3_MAX_ATTEMPTS,
  }));

export type LogEnv = z.infer<typeof logSchema>;
export type StoreEnv = z.infer<typeof storeSchema>;
export type SourcesEnv = z.infer<typeof sourcesSchema>;
export type ArchiveEnv = z.infer<typeof archiveSchema>;
export type ArchiveS3Env = z.infer<typeof archiveS3Schema>;
export type WebEnv = z.infer<typeof webSchema>;
export type WorkerEnv = z.infer<typeof workerSchema>;
export type CliEnv = z.infer<typeof cliSchema>;

function parse<S extends z.ZodType>(schema: S): z.infer<S> {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid environment:\n  ${problems.join("\n  ")}`);
  }
  return parsed.data;
}

function once<T>(read: () => T): () => T {
  let value: { parsed: T } | undefined;
  return () => (value ??= { parsed: read() }).parsed;
}

const readLog = once(() => parse(logSchema));
const readWeb = once(() => parse(webSchema));
const readWorker = once(() => parse(workerSchema));
const readCli = once(() => parse(cliSchema));

export const env = {
  get log(): LogEnv {
    return readLog();
  },
  /** Parsed at each read (cheap), so a test can change it between cases. */
  get sources(): SourcesEnv {
    return parse(sourcesSchema);
  },
  /** Parsed at each read (cheap), so a test can change it between cases. */
  get store(): StoreEnv {
    return parse(storeSchema);
  },
  /** Parsed at each read, like `sources`. */
  get archive(): ArchiveEnv {
    return parse(archiveSchema);
  },
  /** Parsed at each read, like `sources`. */
  get archiveS3(): ArchiveS3Env {
    return parse(archiveS3Schema);
  },
  get web(): WebEnv {
    return readWeb();
  },
  get worker(): WorkerEnv {
    return readWorker();
  },
  get cli(): CliEnv {
    return readCli();
  },
};

/** This process's environment as it is, for a child process to inherit (with the caller's additions). */
export function inheritedEnv(): NodeJS.ProcessEnv {
  return { ...process.env };
}
