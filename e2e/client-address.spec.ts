import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { spawnWeb } from "../lib/cli/processes";
import { startEmbeddedStore } from "../lib/store/embedded";

/**
 * The per-address sign-in limit (20 refusals in 15 minutes) against the real `next start`, driven over real TCP
 * from distinct loopback addresses (127.x.y.z all reach this machine, and each is the server's peer address).
 * Each run picks fresh addresses, emails and forged values: the counts live in the e2e store for 15 minutes.
 */

const PORT = Number(process.env.E2E_PORT ?? 3100);
// Ports for the extra servers this spec starts (next to the store's, away from other e2e ports).
const STORE_PORT = Number(process.env.E2E_STORE_PORT ?? 54431);
const PLAIN_PORT = STORE_PORT + 41;
const TRUSTING_PORT = STORE_PORT + 42;
const PROXY_PORT = STORE_PORT + 43;
const DATA_DIR = path.join(".test-data", "e2e-store");
const LIMITED = /^Too many failed sign-ins\. Try again in \d+ minutes?\.$/;

const tag = crypto.randomBytes(3);
let next = 1;
/** A loopback address no other spec (or earlier run, likely) signs in from. */
function freshAddress(): string {
  const n = next++;
  return `127.${tag[0] ?? 0}.${tag[1] ?? 0}.${((tag[2] ?? 0) + n) % 254 || 1}`;
}
const email = (label: string, i: number) => `${label}-${tag.toString("hex")}-${i}@example.com`;
/** A value a client forges, different every time. */
const forged = (i: number) => `198.18.${tag[0] ?? 0}.${i}, 198.19.${tag[1] ?? 0}.${i}`;

type Answer = { status: number; headers: http.IncomingHttpHeaders; body: string };

function call(
  port: number,
  from: string,
  method: string,
  route: string,
  headers: http.OutgoingHttpHeaders,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: "127.0.0.1", port, localAddress: from, method, path: route, headers, agent: false },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * One wrong-password sign-in through next-auth's credentials endpoint, as the sign-in form makes it: the error it
 * answers with (CredentialsSignin for a plain refusal, the limit's message past a limit).
 */
async function refusal(port: number, from: string, account: string, forwardedFor?: string): Promise<string | null> {
  const extra = forwardedFor ? { "x-forwarded-for": forwardedFor } : {};
  const csrf = await call(port, from, "GET", "/api/auth/csrf", extra);
  expect(csrf.status).toBe(200);
  const cookie = (csrf.headers["set-cookie"] ?? []).map((line) => line.split(";")[0]).join("; ");
  const { csrfToken } = JSON.parse(csrf.body) as { csrfToken: string };
  const form = new URLSearchParams({ csrfToken, email: account, password: "wrong password", json: "true" });
  const answer = await call(
    port,
    from,
    "POST",
    "/api/auth/callback/credentials",
    { ...extra, cookie, "content-type": "application/x-www-form-urlencoded" },
    form.toString(),
  );
  const { url } = JSON.parse(answer.body) as { url: string };
  return new URL(url).searchParams.get("error");
}

/** 20 refusals from `from`, each for another account and each with another forged X-Forwarded-For. */
async function twentyForgedRefusals(port: number, from: string, label: string) {
  for (let i = 0; i < 20; i++) expect(await refusal(port, from, email(label, i), forged(i))).toBe("CredentialsSignin");
}

async function storeEnv(port: number, extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  // The e2e instance's embedded store is running: this attaches to it.
  const store = await startEmbeddedStore({ dataDir: DATA_DIR, port: STORE_PORT, log: () => {} });
  return {
    ...process.env,
    DATABASE_URL: store.url,
    RETRACE_SECRET: fs.readFileSync(path.join(DATA_DIR, "secret"), "utf8").trim(),
    NEXTAUTH_URL: `http://localhost:${port}`,
    NEXT_TELEMETRY_DISABLED: "1",
    LOG_LEVEL: "warn",
    ...extra,
  };
}

async function ready(port: number, child: ChildProcess) {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    expect(child.exitCode, "the server exited").toBeNull();
    const up = await call(port, "127.0.0.1", "GET", "/login", {}).then(
      (answer) => answer.status === 200,
      () => false,
    );
    if (up) return;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`nothing answered on port ${port}`);
}

async function stop(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

test.describe("the per-address sign-in limit", () => {
  test.describe.configure({ timeout: 300_000 });

  test("plain `next start` passes a client's X-Forwarded-For through untouched (why Retrace appends)", async () => {
    // Next.js itself, without bin/forwarded-for.mjs: each forged value is a new address, so no limit is reached.
    const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
    const env = await storeEnv(PLAIN_PORT);
    const plain = spawn(process.execPath, [nextBin, "start", "-p", String(PLAIN_PORT), "-H", "127.0.0.1"], {
      env,
      stdio: "inherit",
    });
    try {
      await ready(PLAIN_PORT, plain);
      const from = freshAddress();
      await twentyForgedRefusals(PLAIN_PORT, from, "plain");
      expect(await refusal(PLAIN_PORT, from, email("plain", 20), forged(20))).toBe("CredentialsSignin");
    } finally {
      await stop(plain);
    }
  });

  test("with no proxy, forged X-Forwarded-For values do not escape it", async () => {
    // The instance under test (`retrace start`, RETRACE_TRUSTED_PROXIES unset: 0).
    const from = freshAddress();
    await twentyForgedRefusals(PORT, from, "direct");
    expect(await refusal(PORT, from, email("direct", 20), forged(20))).toMatch(LIMITED);
    expect(await refusal(PORT, from, email("direct", 21))).toMatch(LIMITED);
    // Another client is not affected.
    expect(await refusal(PORT, freshAddress(), email("direct", 22), forged(0))).toBe("CredentialsSignin");
  });

  test("with RETRACE_TRUSTED_PROXIES=1 behind a proxy that appends, it holds per real client", async () => {
    const web = spawnWeb(await storeEnv(TRUSTING_PORT, { RETRACE_TRUSTED_PROXIES: "1" }), TRUSTING_PORT, "127.0.0.1");
    // A proxy like nginx with `proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for`.
    const proxy = http.createServer((request, response) => {
      const sent = request.headers["x-forwarded-for"];
      const peer = request.socket.remoteAddress ?? "";
      const headers = { ...request.headers, "x-forwarded-for": sent ? `${sent}, ${peer}` : peer };
      const upstream = http.request(
        { host: "127.0.0.1", port: TRUSTING_PORT, method: request.method, path: request.url, headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on("error", () => response.writeHead(502).end());
      request.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(PROXY_PORT, "127.0.0.1", resolve));
    try {
      await ready(TRUSTING_PORT, web);
      const [first, second] = [freshAddress(), freshAddress()];
      await twentyForgedRefusals(PROXY_PORT, first, "proxied");
      expect(await refusal(PROXY_PORT, first, email("proxied", 20), forged(20))).toMatch(LIMITED);
      // Every request reached the web app from the proxy's address, yet the next client is its own.
      expect(await refusal(PROXY_PORT, second, email("proxied", 21), forged(0))).toBe("CredentialsSignin");
      expect(await refusal(PROXY_PORT, second, email("proxied", 22))).toBe("CredentialsSignin");
    } finally {
      await new Promise((resolve) => proxy.close(resolve));
      await stop(web);
    }
  });
});
