import { chromium } from "@playwright/test";
import { createApiToken } from "../lib/auth/tokens";
import { createFirstAdmin } from "../lib/auth/users";
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { buildWeb, webBuildState } from "../lib/cli/processes";
import { connectStore } from "../lib/db/client";
import { browseQueries, type BrowseQuery } from "./browse-queries";
import { generateBrowseWorkload, waitUntilStored } from "./browse-workload";
import { ROOT, spawnWorker, WORK_DIR } from "./processes";
import { sleep, type BenchServers } from "./servers";
import { BENCH_SECRET } from "./source";

/** The browse workload at scale 1: 10 million changes. `--scale` sizes it (0.1: 1 million). */
export const BROWSE_CHANGES = 10_000_000;
export const BROWSE_P95_TARGET_MS = 50;
export const FIRST_PAINT_TARGET_MS = 1000;
const RUNS = 30;
const WARMUP = 3;
const WEB_PORT = Number(process.env.BENCH_WEB_PORT ?? 3290);
const ADMIN = { email: "bench@example.com", password: "bench password 0123" };

export type BrowseTiming = { name: string; path: string; rows: number; p50Ms: number; p95Ms: number };

export type BrowseResult = {
  changes: number;
  transactions: number;
  generateSeconds: number;
  ingest: { seconds: number; rate: number } | null;
  queries: BrowseTiming[];
  /** From navigating to /changes until the first change row is painted, in Chromium. */
  firstPaint: { p50Ms: number; maxMs: number; runs: number } | null;
  targetsMet: boolean;
  errors: string[];
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

async function startWeb(servers: BenchServers, log: (line: string) => void) {
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
  // `next start` as `retrace web` runs it, its output in bench/work/web-browse.log.
  fs.mkdirSync(WORK_DIR, { recursive: true });
  const out = fs.openSync(path.join(WORK_DIR, "web-browse.log"), "w");
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
    if (tries > 120) throw new Error("the web app did not start");
    await sleep(500);
  }
  return { base, stop: () => web.kill("SIGTERM") };
}

/** Opens /changes signed in, `runs` times, each time from navigation until the first row is visible. */
async function firstPaint(base: string, runs: number): Promise<BrowseResult["firstPaint"]> {
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

/**
 * The browse workload: ~10M × scale changes written at three source databases (three environments, the same 20
 * tables of skewed sizes, ~5% deletes, one TRUNCATE, a context on a third of the transactions), captured by the
 * real worker process, then every filter alone and combined timed through the real web app's HTTP API, and the
 * first paint of /changes in Chromium.
 */
export async function runBrowse(
  servers: BenchServers,
  scale: number,
  log: (line: string) => void,
): Promise<BrowseResult> {
  const wanted = Math.round(BROWSE_CHANGES * scale);
  const result: BrowseResult = {
    changes: 0,
    transactions: 0,
    generateSeconds: 0,
    ingest: null,
    queries: [],
    firstPaint: null,
    targetsMet: false,
    errors: [],
  };
  log(`generating ~${wanted.toLocaleString("en-US")} changes in three source databases`);
  const workload = await generateBrowseWorkload(servers, wanted, log);
  Object.assign(result, {
    changes: workload.changes,
    transactions: workload.transactions,
    generateSeconds: Math.round(workload.generateSeconds),
  });
  log(
    `${workload.changes.toLocaleString("en-US")} changes written in ${result.generateSeconds} s; ` +
      "the worker stores them",
  );
  const worker = spawnWorker(servers.storeUrl, "browse");
  const began = performance.now();
  try {
    await waitUntilStored(servers, workload.changes, 120_000);
    const seconds = (performance.now() - began) / 1000;
    result.ingest = { seconds: Math.round(seconds), rate: Math.round(workload.changes / seconds) };
    log(
      `stored in ${result.ingest.seconds} s (${result.ingest.rate.toLocaleString("en-US")}/s, three sources at once)`,
    );
  } finally {
    await worker.stop();
  }
  await servers.storePool.query("vacuum analyze");

  const store = connectStore(servers.storeUrl, { max: 2 });
  const web = await startWeb(servers, log);
  try {
    const token = (await createApiToken(store.db, "bench")).token;
    await createFirstAdmin(store.db, ADMIN);
    for (const query of browseQueries(servers, web.base, token, workload.sourceIds)) {
      try {
        const timing = await timeQuery(web.base, token, query);
        result.queries.push(timing);
        log(`${timing.name}: p50 ${timing.p50Ms} ms, p95 ${timing.p95Ms} ms (${timing.rows} rows)`);
      } catch (error) {
        result.errors.push(`${query.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    try {
      result.firstPaint = await firstPaint(web.base, 5);
      log(`first paint of /changes: p50 ${result.firstPaint?.p50Ms} ms, max ${result.firstPaint?.maxMs} ms`);
    } catch (error) {
      result.errors.push(`first paint: ${error instanceof Error ? error.message : String(error)}`);
    }
  } finally {
    web.stop();
    await store.pool.end();
  }
  result.targetsMet =
    result.errors.length === 0 &&
    result.queries.every((q) => q.p95Ms <= BROWSE_P95_TARGET_MS) &&
    (result.firstPaint?.maxMs ?? Infinity) <= FIRST_PAINT_TARGET_MS;
  return result;
}
