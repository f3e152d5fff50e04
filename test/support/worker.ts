/** The worker as the tests run it: in this process (startTestWorker) or as its own (spawnWorkerProcess). */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createLogger } from "../../lib/log";
import { startWorker, type Worker, type WorkerOptions } from "../../worker/worker";
import { SECRET, type Servers } from "./servers";

const ROOT = path.resolve(import.meta.dirname, "../..");

/**
 * startWorker on the test store with the test secret, silent, listing sources every 200 ms and
 * retrying a failing source after 200 ms to 1 s; `options` override any of it.
 */
export function startTestWorker(servers: Pick<Servers, "storeUrl">, options: Partial<WorkerOptions> = {}): Worker {
  return startWorker({
    databaseUrl: servers.storeUrl,
    secret: SECRET,
    logger: createLogger("test-worker", "silent"),
    pollIntervalMs: 200,
    backoff: { minMs: 200, maxMs: 1_000 },
    ...options,
  });
}

export type WorkerProcess = {
  child: ChildProcess;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Its exit code once it has exited (null when a signal ended it). */
  exited: Promise<number | null>;
};

const spawned: WorkerProcess[] = [];

/**
 * The worker process from source (`node --import tsx worker/run.ts`, what `retrace worker` runs
 * bundled), logging warnings, with the test secret and `env` (DATABASE_URL at least).
 */
export function spawnWorkerProcess(env: { DATABASE_URL: string } & Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", "worker/run.ts"], {
    cwd: ROOT,
    env: { ...process.env, RETRACE_SECRET: SECRET, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const worker = { child, output: () => output, exited };
  spawned.push(worker);
  return worker;
}

export function isRunning(worker: WorkerProcess): boolean {
  return worker.child.exitCode === null && worker.child.signalCode === null;
}

/** SIGKILLs every worker process this test file spawned that still runs, and waits for them. */
export async function killWorkerProcesses(): Promise<void> {
  for (const worker of spawned) if (isRunning(worker)) worker.child.kill("SIGKILL");
  await Promise.allSettled(spawned.map((worker) => worker.exited));
}
