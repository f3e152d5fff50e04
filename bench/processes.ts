import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { WORKER_BUNDLE, WORKER_NODE_FLAGS } from "../lib/cli/processes";
import { BENCH_SECRET } from "./source";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const WORK_DIR = path.join(ROOT, "bench", "work");

/** Every child this process started, so an interrupted run can end them (by pid, nothing else). */
const children = new Set<ChildProcess>();

export function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

function track(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  children.add(child);
  return new Promise((resolve, reject) => {
    child.once("error", (error) => {
      children.delete(child);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/**
 * Samples one process from /proc: its peak resident memory (VmHWM is the kernel's own peak, so
 * nothing between samples is missed) and its CPU time, to tell a slow worker from a stuck one.
 */
export class ProcessSampler {
  private peakKb = 0;
  private cpuTicks = 0;
  private cpuChangedAt = performance.now();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pid: number) {}

  start(intervalMs = 100): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    return this;
  }

  sample(): void {
    let status: string;
    let stat: string;
    try {
      status = fs.readFileSync(`/proc/${this.pid}/status`, "utf8");
      stat = fs.readFileSync(`/proc/${this.pid}/stat`, "utf8");
    } catch {
      return; // exited
    }
    for (const key of ["VmHWM", "VmRSS"]) {
      const match = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status);
      if (match?.[1]) this.peakKb = Math.max(this.peakKb, Number(match[1]));
    }
    // Fields after the command name: state is field 3, utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    if (Number.isFinite(ticks) && ticks > this.cpuTicks + 10) {
      this.cpuTicks = ticks;
      this.cpuChangedAt = performance.now();
    }
  }

  stop(): number {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.peakMb;
  }

  get peakMb(): number {
    return Math.round(this.peakKb / 1024);
  }

  /** Milliseconds since the process last used a tenth of a second of CPU. */
  get idleMs(): number {
    return performance.now() - this.cpuChangedAt;
  }
}

export type WorkerProcess = {
  pid: number;
  rss: ProcessSampler;
  logFile: string;
  /** Resolves when the process exits (with its exit code, null when killed by a signal). */
  exited: Promise<number | null>;
  hasExited(): boolean;
  logTail(): string;
  /** SIGTERM (the worker drains and exits), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
};

/** The real worker process, exactly as `retrace worker` runs it: its bundle (call buildWorker first). */
export function spawnWorker(storeUrl: string, name: string): WorkerProcess {
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const logFile = path.join(WORK_DIR, `worker-${name}.log`);
  const out = fs.openSync(logFile, "w");
  // BENCH_WORKER_NODE_ARGS: extra node flags for the worker, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = process.env.BENCH_WORKER_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...WORKER_NODE_FLAGS, ...nodeArgs, WORKER_BUNDLE], {
    cwd: ROOT,
    // No metrics listener: a Retrace already running on this machine may hold its port.
    env: {
      ...process.env,
      DATABASE_URL: storeUrl,
      RETRACE_SECRET: BENCH_SECRET,
      LOG_LEVEL: "warn",
      WORKER_METRICS_PORT: "0",
      // The bench's sources are servers on this machine.
      RETRACE_ALLOW_LOCAL_SOURCES: "true",
    },
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error("could not start the worker");
  const pid = child.pid;
  const exited = track(child).then(({ code }) => code);
  exited.catch(() => undefined);
  const rss = new ProcessSampler(pid).start();
  return {
    pid,
    rss,
    logFile,
    exited,
    hasExited: () => child.exitCode !== null || child.signalCode !== null,
    logTail: () => tail(logFile),
    async stop(graceMs = 20_000) {
      rss.stop();
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Drains `slot` with pg_recvlogical and the same plugin and options the worker uses (pgoutput,
 * protocol 2, the publication, logical messages on), discarding the output. Returns seconds.
 */
export async function runPgRecvlogical(options: {
  binary: string;
  port: number;
  password: string;
  database: string;
  slot: string;
  publication: string;
  endLsn: string;
  timeoutMs: number;
}): Promise<number> {
  const args = [
    "--start",
    "--no-loop",
    "-h",
    "localhost",
    "-p",
    String(options.port),
    "-U",
    "postgres",
    "-d",
    options.database,
    "-S",
    options.slot,
    "-P",
    "pgoutput",
    "-o",
    "proto_version=2",
    "-o",
    `publication_names=${options.publication}`,
    "-o",
    "messages=true",
    "-f",
    "/dev/null",
    `--endpos=${options.endLsn}`,
  ];
  const started = process.hrtime.bigint();
  const child = spawn(options.binary, args, {
    env: { ...process.env, PGPASSWORD: options.password },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
  try {
    const { code, signal } = await track(child);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (code !== 0) {
      throw new Error(
        `pg_recvlogical ${signal ? `was killed (${signal}, timeout ${options.timeoutMs} ms)` : `exited ${code}`}: ` +
          stderr.trim(),
      );
    }
    return seconds;
  } finally {
    clearTimeout(timer);
  }
}
