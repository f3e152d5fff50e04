import path from "node:path";
import { z } from "zod";

/**
 * Environment of a running Retrace process (web or worker). `retrace start|web|worker`
 * resolves the store and the secret before it spawns them, so by the time this is parsed
 * DATABASE_URL and RETRACE_SECRET are always set.
 */
const runtimeSchema = z.object({
  DATABASE_URL: z.string().url("DATABASE_URL must be a postgres:// URL"),
  RETRACE_SECRET: z.string().min(32, "RETRACE_SECRET must be at least 32 characters"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]).default("info"),
  // Worker only. Prometheus /metrics and /healthz; port 0 turns the endpoint off.
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  WORKER_METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  // Worker only. Heartbeat and lag measurement per source; 0 turns heartbeats off.
  RETRACE_HEARTBEAT_SECONDS: z.coerce
    .number()
    .min(0)
    .max(86_400)
    .refine((seconds) => seconds === 0 || seconds >= 0.1, "RETRACE_HEARTBEAT_SECONDS must be 0 (off) or at least 0.1")
    .default(30),
});

export type RuntimeEnv = z.infer<typeof runtimeSchema>;

export function runtimeEnv(source: NodeJS.ProcessEnv = process.env): RuntimeEnv {
  const parsed = runtimeSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid environment:\n  ${problems.join("\n  ")}`);
  }
  return parsed.data;
}

/** What the command line needs before the store exists. */
const cliSchema = z.object({
  DATABASE_URL: z.string().url("DATABASE_URL must be a postgres:// URL").optional(),
  RETRACE_DATA_DIR: z.string().min(1).default(".retrace"),
  RETRACE_SECRET: z.string().min(32, "RETRACE_SECRET must be at least 32 characters").optional(),
  RETRACE_STORE_PORT: z.coerce.number().int().min(1).max(65535).default(54329),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  HOSTNAME: z.string().default("0.0.0.0"),
});

export type CliEnv = Omit<z.infer<typeof cliSchema>, "RETRACE_DATA_DIR"> & { dataDir: string };

export function cliEnv(source: NodeJS.ProcessEnv = process.env): CliEnv {
  const parsed = cliSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid environment:\n  ${problems.join("\n  ")}`);
  }
  const { RETRACE_DATA_DIR, ...rest } = parsed.data;
  return { ...rest, dataDir: path.resolve(RETRACE_DATA_DIR) };
}
