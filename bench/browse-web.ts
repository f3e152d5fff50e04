import { chromium } from "@playwright/test";
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { createApiToken } from "../lib/auth/tokens";
import { createFirstAdmin } from "../lib/auth/users";
import { buildWeb, webBuildState } from "../lib/cli/processes";
import { connectStore } from "../lib/db/client";
import { browseQueries, type BrowseQuery } from "./browse-queries";
import { ROOT, WORK_DIR } from "./processes";
import { sleep, type BenchServers } from "./servers";
import { BENCH_SECRET } from "./source";

/**
 * The browse measurements through the real web app, shared by the browse and scale workloads: `next start` on the
 * bench's store, every query of browse-queries.ts timed over HTTP, and the first paint of /changes in Chromium.
 */
const RUNS = 30;
const WARMUP = 3;
const FIRST_PAINT_RUNS = 5;
const WEB_PORT = Number(process.env.BENCH_WEB_PORT ?? 3290);
const ADMIN = { email: "bench@example.com", password: "bench password 0123" };

export type BrowseTiming = { name: string; path: string; rows: number; p50Ms: number; p95Ms: number };
/** From navigating to /changes until the first change row is painted, in Chromium. */
export type FirstPaint = { p50Ms: number; maxMs: number; runs: number };
export type BrowseMeasurement = { queries: BrowseTiming[]; firstPaint: FirstPaint | null; errors: string[] };

export type BrowseSession = {
  base: string;
  /** Times every browse query (and the first paint) against what the store holds now. */
  measure(sourceIds: string[], log: (line: string) => void): Promise<BrowseMeasurement>;
  /** Sends every browse query a few times, untimed (the first requests of a fresh server load its code). */
  warmUp(sourceIds: string[]): Promise<void>;
  close(): Promise<void>;
};

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

async function timeQuery(base: string, token: string, query: BrowseQuery): Promise<BrowseTiming> {
  const path = await query.path();
  const headers = { authorization: `Bearer ${token}` };
  const times: number[] = [];
  let rows = 0;
  for (let run = 0; run < WARMUP + RUNS; run++) {
    const began = performance.now();
    const response = await fetch(`${base}${path}`, { headers });
    const body = await response.text();
    const elapsed = performance.now() - began;
    if (!response.ok) throw new Error(`${path}: ${response.status} ${body.slice(0, 200)}`);
    if (run >= WARMUP) times.push(elapsed);
    rows = query.rows(body);
  }
  times.sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { name: query.name, path, rows, p50Ms: round(percentile(times, 50)), p95Ms: round(percentile(times, 95)) };
}

async function startWeb(servers: BenchServers, name: string, log: (line: string) => void) {
  const env = {
    ...process.env,
    DATABASE_URL: servers.storeUrl,
    RETRACE_SECRET: BENCH_SECRET,
    NEXTAUTH_URL: `http://localhost:${WEB_PORT}`,
    NEXT_TELEMETRY_DISABLED: "1",
    LOG_LEVEL: "warn",
  };
  if (webBuildState() !== "current") {
    log("building the web app (next build)");
    await buildWeb(env);
  }
  // `next start` as `retrace web` runs it, its output in bench/work/web-<name>.log.
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const out = fs.openSync(path.join(WORK_DIR, `web-${name}.log`), "w");
  const next = createRequire(import.meta.url).resolve("next/dist/bin/next");
  const web = spawn(process.execPath, [next, "start", "-p", String(WEB_PORT), "-H", "127.0.0.1"], {
    cwd: ROOT,
    env,
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out);
  const base = `http://127.0.0.1:${WEB_PORT}`;
  for (let tries = 0; ; tries++) {
    const up = await fetch(`${base}/api/environments`).then(
      (r) => r.status === 401,
      () => false,
    );
    if (up) break;
    if (tries > 120 || web.exitCode !== null) {
      web.kill("SIGTERM");
      throw new Error(`the web app did not start on port ${WEB_PORT} (see bench/work/web-${name}.log)`);
    }
    await sleep(500);
  }
  return { base, stop: () => web.kill("SIGTERM") };
}

/** Opens /changes signed in, `runs` times, each time from navigation until the first row is visible. */
async function firstPaint(base: string, runs: number): Promise<FirstPaint> {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" });
  try {
    const context = await browser.newContext({ baseURL: base });
    const { csrfToken } = (await (await context.request.get("/api/auth/csrf")).json()) as { csrfToken: string };
    const signIn = await context.request.post("/api/auth/callback/credentials", {
      form: { csrfToken, ...ADMIN, json: "true" },
    });
    if (!signIn.ok()) throw new Error(`sign-in failed: ${signIn.status()}`);
    const page = await context.newPage();
    const times: number[] = [];
    for (let run = 0; run < runs + 1; run++) {
      const began = performance.now();
      await page.goto("/changes", { waitUntil: "commit" });
      await page.getByTestId("change-row").first().waitFor({ state: "visible", timeout: 30_000 });
      if (run > 0) times.push(performance.now() - began); // the first run warms the server's code
    }
    times.sort((a, b) => a - b);
    return { p50Ms: Math.round(percentile(times, 50)), maxMs: Math.round(times.at(-1) ?? NaN), runs };
  } finally {
    await browser.close();
  }
}

/** Starts the web app on the bench's store, with an API token and the first admin (for the first paint). */
export async function openBrowseSession(
  servers: BenchServers,
  name: string,
  log: (line: string) => void,
): Promise<BrowseSession> {
  const store = connectStore(servers.storeUrl, { max: 2 });
  let web: Awaited<ReturnType<typeof startWeb>> | null = null;
  try {
    web = await startWeb(servers, name, log);
    const token = (await createApiToken(store.db, "bench")).token;
    await createFirstAdmin(store.db, ADMIN);
    const { base } = web;
    return {
      base,
      async measure(sourceIds, log) {
        const result: BrowseMeasurement = { queries: [], firstPaint: null, errors: [] };
        for (const query of browseQueries(servers, base, token, sourceIds)) {
          try {
            const timing = await timeQuery(base, token, query);
            result.queries.push(timing);
            log(`${timing.name}: p50 ${timing.p50Ms} ms, p95 ${timing.p95Ms} ms (${timing.rows} rows)`);
          } catch (error) {
            result.errors.push(`${query.name}: ${error instanceof Error ? error.message : String(error)}`);
          }
        }
        try {
          result.firstPaint = await firstPaint(base, FIRST_PAINT_RUNS);
          log(`first paint of /changes: p50 ${result.firstPaint.p50Ms} ms, max ${result.firstPaint.maxMs} ms`);
        } catch (error) {
          result.errors.push(`first paint: ${error instanceof Error ? error.message : String(error)}`);
        }
        return result;
      },
      async warmUp(sourceIds) {
        const headers = { authorization: `Bearer ${token}` };
        for (const query of browseQueries(servers, base, token, sourceIds)) {
          const path = await query.path();
          for (let run = 0; run < WARMUP; run++) await (await fetch(`${base}${path}`, { headers })).text();
        }
      },
      async close() {
        web?.stop();
        await store.pool.end();
      },
    };
  } catch (error) {
    web?.stop();
    await store.pool.end();
    throw error;
  }
}
