import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);

function nextBin(): string {
  return require.resolve("next/dist/bin/next");
}

export function hasBuild(): boolean {
  return fs.existsSync(path.join(projectRoot, ".next", "BUILD_ID"));
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

export function spawnWeb(env: NodeJS.ProcessEnv, port: number, hostname: string): ChildProcess {
  return spawn(process.execPath, [nextBin(), "start", "-p", String(port), "-H", hostname], {
    cwd: projectRoot,
    env,
    stdio: "inherit",
  });
}

export function spawnWorker(env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", path.join(projectRoot, "worker/run.ts")], {
    cwd: projectRoot,
    env,
    stdio: "inherit",
  });
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
