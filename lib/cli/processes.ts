import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { backoffDelay } from "../backoff";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);

function nextBin(): string {
  return require.resolve("next/dist/bin/next");
}

/** What the web build is made from: its code (tests aside), dependencies and configuration. */
const WEB_SOURCES = [
  "app",
  "components",
  "lib",
  "proxy.ts",
  "next.config.js",
  "postcss.config.mjs",
  "tsconfig.json",
  "package.json",
  "package-lock.json",
];

/** The latest modification under `target` (a file, or a directory and everything in it); 0 if absent. */
function latestChange(target: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return /\.test\.tsx?$/.test(target) ? 0 : stat.mtimeMs;
  // A directory's own time changes when an entry is added, removed or renamed.
  let latest = stat.mtimeMs;
  for (const entry of fs.readdirSync(target)) latest = Math.max(latest, latestChange(path.join(target, entry)));
  return latest;
}

/**
 * Whether `next build` has to run before `next start`: no build yet, or one older than a source
 * it is made from (after a `git pull`, say; serving it would mix old pages with new APIs).
 */
export function webBuildState(root = projectRoot): "missing" | "stale" | "current" {
  let built: number;
  try {
    built = fs.statSync(path.join(root, ".next", "BUILD_ID")).mtimeMs;
  } catch {
    return "missing";
  }
  const latest = Math.max(...WEB_SOURCES.map((source) => latestChange(path.join(root, source))));
  return latest > built ? "stale" : "current";
}

/** Runs a child to completion; rejects on a non-zero exit. */
export function run(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: projectRoot, env, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`${args.join(" ")} exited with ${signal ?? code}`)),
    );
  });
}

export function buildWeb(env: NodeJS.ProcessEnv): Promise<void> {
  return run([nextBin(), "build"], env);
}

/**
 * How long the web server keeps an idle connection open. Node's default (5 s) is shorter than the idle timeout of
 * the proxies and load balancers put in front of it (60 s on AWS's, nginx's 60 s for upstream keep-alive) and of
 * clients that pool connections: one that sends on a pooled connection as the server closes it gets a reset
 * (ECONNRESET) instead of an answer. Longer than theirs, it is always the client that closes first.
 */
export const WEB_KEEP_ALIVE_MS = 65_000;

export function spawnWeb(env: NodeJS.ProcessEnv, port: number, hostname: string): ChildProcess {
  // bin/forwarded-for.mjs appends each connection's address to X-Forwarded-For before Next.js reads it.
  const preload = path.join(projectRoot, "bin", "forwarded-for.mjs");
  const args = [
    ...["--import", pathToFileURL(preload).href, nextBin(), "start", "-p", String(port), "-H", hostname],
    ...["--keepAliveTimeout", String(WEB_KEEP_ALIVE_MS)],
  ];
  return spawn(process.execPath, args, {
    cwd: projectRoot,
    env,
    stdio: "inherit",
  });
}

/** Where buildWorker writes the worker (inside the project: migrations are found from it). */
export const WORKER_BUNDLE = path.join(projectRoot, "dist", "worker.mjs");

/**
 * Bundles the worker with esbuild into one ES module: its TypeScript (worker/, lib/) and the
 * packages it imports. It takes well under a second, so every start rebuilds it and it is never
 * stale. The worker then starts in ~0.4 s instead of ~1 s through tsx (which compiles and
 * resolves every module on the fly, and node_modules are hundreds of files): that is the pause
 * before a restarted or taking-over worker streams again.
 */
export async function buildWorker(): Promise<string> {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [path.join(projectRoot, "worker", "run.ts")],
    outfile: WORKER_BUNDLE,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // pg's optional native binding, loaded only when asked for (it never is).
    external: ["pg-native"],
    // The CommonJS packages inside call require() for Node's own modules.
    banner: {
      js:
        'import { createRequire as createRequireForBundle } from "node:module";\n' +
        "const require = createRequireForBundle(import.meta.url);",
    },
    sourcemap: "linked",
    keepNames: true,
    logLevel: "warning",
  });
  return WORKER_BUNDLE;
}

/**
 * Node flags of the worker process. A larger young generation than Node's default 16 MB: the
 * worker allocates short-lived rows and buffers at a high rate, and with 32 MB semi-spaces it
 * spends ~15% less CPU in total (scavenges) for ~30 MB more memory at most.
 */
export const WORKER_NODE_FLAGS = ["--max-semi-space-size=32"];

/**
 * The worker as buildWorker left it. Stack traces name the bundle's lines; its source map sits
 * beside it, and NODE_OPTIONS=--enable-source-maps maps them back to the TypeScript (off by
 * default: Node then parses the whole map at start-up, ~0.15 s).
 */
export function spawnWorker(env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [...WORKER_NODE_FLAGS, WORKER_BUNDLE], {
    cwd: projectRoot,
    env,
    stdio: "inherit",
  });
}

/** Restarts of a worker that keeps dying young wait longer each time (backoffDelay), up to `maxMs`. */
export const WORKER_RESTART = { minMs: 1_000, maxMs: 30_000, healthyAfterMs: 60_000 };

/**
 * The worker process, started again whenever it exits while Retrace is not stopping (a crash, the
 * kernel's out-of-memory killer, `kill -9`). Nothing is lost meanwhile: each source's slot keeps
 * its changes until the new worker stores them. A worker that dies within `healthyAfterMs` of
 * its start waits longer before each next start (backoffDelay), so one that cannot start does
 * not spin; one that ran longer than that is started again after `minMs`.
 */
export class SupervisedWorker {
  private child: ChildProcess | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private stopping = false;
  /** Restarts in a row of a worker that died young. */
  private attempt = 0;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: (line: string) => void,
    private readonly limits = WORKER_RESTART,
  ) {}

  start(): void {
    const startedAt = Date.now();
    const child = spawnWorker(this.env);
    this.child = child;
    child.once("exit", (code, signal) => {
      this.child = null;
      if (this.stopping) return;
      if (Date.now() - startedAt >= this.limits.healthyAfterMs) this.attempt = 0;
      const delay = backoffDelay(this.attempt++, this.limits.minMs, this.limits.maxMs);
      this.log(
        `worker exited unexpectedly (${signal ?? `code ${code}`}); ` +
          `starting it again in ${Math.round(delay / 100) / 10} s`,
      );
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null;
        if (!this.stopping) this.start();
      }, delay);
    });
  }

  /** No more restarts; the running worker (if any) drains and exits. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    if (this.child) await terminate(this.child);
  }
}

/** Sends SIGTERM and waits for the exit; SIGKILL after the deadline. */
export function terminate(child: ChildProcess, deadlineMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), deadlineMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
