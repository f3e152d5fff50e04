// Everything the web side logs, at the most verbose level, is captured: set before any logger exists.
process.env.LOG_LEVEL = "trace";

import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startChattyServer, startSilentServer, type FakeServer } from "./support/fake-servers";
import { freePort, startTestServer, startWebStore, type TestServer } from "./support/postgres";
import { SECRET } from "./support/servers";
import { waitFor } from "./support/wait";
import { isRunning, killWorkerProcesses, spawnWorkerProcess, type WorkerProcess } from "./support/worker";

/**
 * A source's password never leaves (issue 17): not in an API answer, an error message, a log line of the web app
 * or of the worker (at trace level), a source's recorded failure, or a process's arguments; through every error
 * path: wrong password, unreachable host, TLS refused, a silent server, a service that is not PostgreSQL. The
 * password is one nothing else contains, looked for as typed, URL-encoded and in base64.
 */

const PASSWORD = `Pw-${crypto.randomUUID().slice(0, 8)}-s3cr3t!@:/`;
const NEEDLES = [PASSWORD, encodeURIComponent(PASSWORD), Buffer.from(PASSWORD).toString("base64")];

let web: Awaited<ReturnType<typeof startWebStore>>;
let source: TestServer;
let silent: FakeServer;
let chatty: FakeServer;
let token = "";
let closedPort = 0;
const seen: string[] = [];
let webLog = "";
const restore: (() => void)[] = [];

/** Copies whatever this process writes to stdout and stderr (pino writes with fs.write/fs.writeSync on fd 1). */
function captureOutput() {
  for (const name of ["write", "writeSync"] as const) {
    const original = fs[name] as (...args: unknown[]) => unknown;
    (fs as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      const [fd, data] = args;
      if (fd === 1 || fd === 2) webLog += typeof data === "string" ? data : Buffer.from(data as Uint8Array).toString();
      return original.apply(fs, args);
    };
    restore.push(() => ((fs as unknown as Record<string, unknown>)[name] = original));
  }
}

/** Route handlers take their own params type; each is called with the id in the path (or none). */
type Handler = (request: Request, context: { params: Promise<never> }) => Promise<Response>;

async function api(method: string, path: string, handler: Handler, body?: unknown) {
  const response = await handler(
    new Request(`http://localhost${path}`, {
      method,
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    { params: Promise.resolve({ id: path.split("/")[3] ?? "" }) as Promise<never> },
  );
  const text = await response.text();
  seen.push(`${method} ${path} ${response.status} ${text}`);
  return { status: response.status, text };
}

function connection(overrides: Record<string, unknown> = {}) {
  return {
    host: "localhost",
    port: source.port,
    database: "app",
    username: "leak_probe",
    password: PASSWORD,
    sslMode: "disable",
    ...overrides,
  };
}

function expectNoPassword(text: string, where: string) {
  for (const needle of NEEDLES) expect(text.includes(needle), `${where} contains the password`).toBe(false);
}

async function sourceRow(id: string) {
  const { rows } = await web.server.query<{ status: string; last_error: string | null; last_error_fix: string | null }>(
    "select status, last_error, last_error_fix from sources where id = $1",
    [id],
    "retrace",
  );
  return rows[0];
}

beforeAll(async () => {
  [web, source, silent, chatty, closedPort] = await Promise.all([
    startWebStore(SECRET),
    startTestServer(),
    startSilentServer(),
    startChattyServer("HTTP/1.1 400 Bad Request\r\n\r\n"),
    freePort(),
  ]);
  await source.createDatabase("app");
  await source.query(
    `create role leak_probe with login replication superuser password '${PASSWORD.replace(/'/g, "''")}'`,
  );
  await source.query("create table public.items (id int primary key, name text)", [], "app");
  const { getDb } = await import("../lib/db");
  const { createApiToken } = await import("../lib/auth/tokens");
  token = (await createApiToken(getDb(), "secrets")).token;
  captureOutput();
});

afterAll(async () => {
  for (const undo of restore) undo();
  await killWorkerProcesses();
  await Promise.all([web.close(), source.stop(), silent.close(), chatty.close()]);
});

describe("the source password", () => {
  it("is in no answer, error, log line, recorded failure or process argument, on any path", async () => {
    process.env.RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS = "1";
    // The capture works: a line the web side's logger writes is in it.
    const { createLogger } = await import("../lib/log");
    createLogger("probe").info({ password: PASSWORD }, "log-capture-probe");
    const check = (await import("../app/api/databases/check/route")).POST;
    const list = await import("../app/api/databases/route");
    const one = await import("../app/api/databases/[id]/route");
    const tables = await import("../app/api/databases/[id]/tables/route");

    // Every way the check and the connect fail, and succeed.
    const failing = {
      "wrong password": connection({ password: `${PASSWORD}-wrong` }),
      "wrong user": connection({ username: "nobody_here" }),
      unreachable: connection({ port: closedPort }),
      "TLS refused": connection({ sslMode: "require" }),
      "TLS verify-full refused": connection({ sslMode: "verify-full" }),
      "silent server": connection({ host: "127.0.0.1", port: silent.port }),
      "not PostgreSQL": connection({ host: "127.0.0.1", port: chatty.port }),
      "unknown database": connection({ database: "nope" }),
    };
    for (const [name, body] of Object.entries(failing)) {
      const checked = await api("POST", "/api/databases/check", check, body);
      expect(checked.status, name).toBe(200);
      expect(checked.text, name).toContain('"ok":false');
      const connected = await api("POST", "/api/databases", list.POST, { ...body, environment: "test", name });
      expect(connected.status, name).toBe(422);
    }
    expect((await api("POST", "/api/databases/check", check, connection())).text).toContain('"ok":true');
    const created = await api("POST", "/api/databases", list.POST, {
      ...connection(),
      environment: "test",
      tables: ["public.items"],
    });
    expect(created.status, created.text).toBe(201);
    const id = (JSON.parse(created.text) as { database: { id: string } }).database.id;
    await api("GET", "/api/databases", list.GET);
    await api("GET", `/api/databases/${id}`, one.GET);
    await api("GET", `/api/databases/${id}/tables`, tables.GET);

    // The worker streams it, then meets each failure in turn (a fresh worker each time, so no backoff waits).
    let worker: WorkerProcess | null = null;
    const workers: WorkerProcess[] = [];
    const runWorker = async (
      until: (row: NonNullable<Awaited<ReturnType<typeof sourceRow>>>) => boolean,
      what: string,
    ) => {
      if (worker && isRunning(worker)) worker.child.kill("SIGKILL");
      await worker?.exited;
      worker = spawnWorkerProcess({
        DATABASE_URL: web.url,
        LOG_LEVEL: "trace",
        WORKER_METRICS_PORT: "0",
        RETRACE_SOURCE_QUERY_TIMEOUT_SECONDS: "1",
      });
      workers.push(worker);
      const cmdline = fs.readFileSync(`/proc/${worker.child.pid}/cmdline`, "utf8");
      expectNoPassword(cmdline, "the worker's arguments");
      return waitFor(what, async () => {
        const row = await sourceRow(id);
        return row && until(row) ? row : undefined;
      });
    };
    await runWorker((row) => row.status === "streaming", "the source to stream");
    await source.query("insert into public.items values (1, 'one')", [], "app");

    await source.query(`alter role leak_probe password 'Another-Pa55word'`);
    await source.query("select pg_terminate_backend(pid) from pg_stat_activity where usename = 'leak_probe'");
    const rejected = await runWorker((row) => /password was rejected/.test(row.last_error ?? ""), "auth failure");
    seen.push(JSON.stringify(rejected));
    await api("GET", `/api/databases/${id}/tables`, tables.GET);
    await source.query(`alter role leak_probe password '${PASSWORD.replace(/'/g, "''")}'`);

    await web.server.query("update sources set ssl_mode = 'require' where id = $1", [id], "retrace");
    const tls = await runWorker((row) => /does not accept SSL/.test(row.last_error ?? ""), "TLS failure");
    seen.push(JSON.stringify(tls));
    await api("GET", `/api/databases/${id}/tables`, tables.GET);

    await web.server.query(
      "update sources set ssl_mode = 'disable', port = $2 where id = $1",
      [id, closedPort],
      "retrace",
    );
    const unreachable = await runWorker((row) => /connection refused/.test(row.last_error ?? ""), "unreachable");
    seen.push(JSON.stringify(unreachable));
    await api("GET", `/api/databases/${id}`, one.GET);
    await api("GET", "/api/databases", list.GET);

    await web.server.query("update sources set port = $2 where id = $1", [id, silent.port], "retrace");
    await runWorker((row) => /did not answer within/.test(row.last_error ?? ""), "silent source");
    await api("GET", `/api/databases/${id}/tables`, tables.GET);

    if (worker && isRunning(worker)) (worker as WorkerProcess).child.kill("SIGTERM");
    await killWorkerProcesses();

    const workerLog = workers.map((w) => w.output()).join("\n");
    // The logs are there to be searched: the worker logged its failures, the web app its requests' errors.
    expect(workerLog).toMatch(/password was rejected|authentication/i);
    expect(webLog).toContain("log-capture-probe");
    expectNoPassword(workerLog, "the worker's log");
    expectNoPassword(webLog, "the web app's log");
    for (const answer of seen) expectNoPassword(answer, answer.slice(0, 60));
    const stored = await web.server.query("select * from sources", [], "retrace");
    expectNoPassword(JSON.stringify(stored.rows), "the sources table");
  });
});
