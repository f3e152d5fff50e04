import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startTestServer, startWebStore, type TestServer } from "./support/postgres";
import { makeCertificates, type TestCertificates } from "./support/tls";
import { waitFor } from "./support/wait";

/**
 * Every connect check against a real server set up to fail it, through the routes the connect form calls:
 * a server that only accepts TLS with a certificate from a self-signed CA (verify-full with and without the CA,
 * and under a host name the certificate does not name), replication slots used up, a table without SELECT, a
 * closed port, an unknown host, a wrong password, an unknown database. Add Database reports every failing check
 * at once. (wal_level=replica and a role without REPLICATION are in test/databases.int.test.ts.)
 */

const SECRET = "connect-checks-secret-0123456789-abcdefgh";
const PASSWORD = "Tls-User-Pa55word";

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let tls: TestServer;
let full: TestServer;
let certificates: TestCertificates | undefined;
let caPem = "";
let otherCaPem = "";
let tlsDatabaseId = "";
let token = "";
let routes: {
  list: typeof import("../app/api/databases/route");
  check: typeof import("../app/api/databases/check/route");
  one: typeof import("../app/api/databases/[id]/route");
  tables: typeof import("../app/api/databases/[id]/tables/route");
};

type Check = { id: string; ok: boolean; message: string; fix?: string };
type CheckBody = { ok: boolean; checks: Check[]; hostKind: { kind: string; detected: boolean }; roleSql: string };
type ErrorBody = { error: { code: string; message: string; details?: { fix?: string; checks?: Check[] } } };

function request(method: string, url: string, body?: unknown): Request {
  return new Request(`http://localhost${url}`, {
    method,
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
const noParams = { params: Promise.resolve({}) };

async function check(body: Record<string, unknown>): Promise<CheckBody> {
  const response = await routes.check.POST(request("POST", "/api/databases/check", body), noParams);
  expect(response.status).toBe(200);
  return (await response.json()) as CheckBody;
}

const byId = (body: { checks: Check[] }, id: string) => body.checks.find((c) => c.id === id);

/** A superuser query on the TLS-only server (encrypted, certificate not checked). */
async function tlsQuery(sql: string, database = "postgres"): Promise<pg.QueryResult> {
  const client = new pg.Client({
    host: "localhost",
    port: tls.port,
    user: "postgres",
    password: tls.password,
    database,
    ssl: { rejectUnauthorized: false },
  });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

const tlsBody = (overrides: Record<string, unknown> = {}) => ({
  host: "localhost",
  port: tls.port,
  database: "app",
  username: "tls_user",
  password: PASSWORD,
  environment: "production",
  sslMode: "verify-full",
  sslRootCert: caPem,
  ...overrides,
});

const fullBody = (overrides: Record<string, unknown> = {}) => ({
  host: "localhost",
  port: full.port,
  database: "app",
  username: "postgres",
  password: full.password,
  environment: "production",
  sslMode: "disable",
  ...overrides,
});

beforeAll(async () => {
  certificates = makeCertificates();
  ({ caPem, otherCaPem } = certificates);
  [web, tls, full] = await Promise.all([
    startWebStore(SECRET),
    startTestServer({ flags: certificates.serverFlags }),
    // Room for one replication slot only, which the test fills.
    startTestServer({ flags: ["-c", "max_replication_slots=1"] }),
  ]);
  const { getDb } = await import("../lib/db");
  const { createApiToken } = await import("../lib/auth/tokens");
  token = (await createApiToken(getDb(), "connect-checks")).token;
  routes = {
    list: await import("../app/api/databases/route"),
    check: await import("../app/api/databases/check/route"),
    one: await import("../app/api/databases/[id]/route"),
    tables: await import("../app/api/databases/[id]/tables/route"),
  };

  await tlsQuery("create database app");
  await tlsQuery(
    `create role tls_user with login replication password '${PASSWORD}'; grant create on database app to tls_user;`,
  );
  await tlsQuery(
    "grant create on schema public to tls_user; set role tls_user; " +
      "create table public.events (id int primary key, what text);",
    "app",
  );

  await full.createDatabase("app");
  await full.query(
    `create table public.secrets (id int primary key, value text);
     create table public.open (id int primary key);
     create role reader with login replication password 'reader-pass-1';
     grant create on database app to reader;
     grant select on public.open to reader;
     create role no_repl with login password 'no-repl-pass-1';
     grant create on database app to no_repl;`,
    [],
    "app",
  );
  await full.query("select pg_create_logical_replication_slot('someone_elses_slot', 'pgoutput')", [], "app");
});

afterAll(async () => {
  await Promise.allSettled([web?.close(), tls?.stop(), full?.stop()]);
  certificates?.remove();
});

describe("TLS: a server that requires it, with a certificate from a self-signed CA", () => {
  it("passes verify-full with the CA pasted, saying what was verified", async () => {
    const body = await check(tlsBody());
    expect(body.checks.filter((c) => !c.ok)).toEqual([]);
    expect(byId(body, "tls")?.message).toBe(
      "Encrypted; the certificate is signed by the CA certificate given and issued for localhost.",
    );
  });

  it("fails verify-full without the CA, with the fix: paste the CA (or require)", async () => {
    const body = await check(tlsBody({ sslRootCert: null }));
    expect(body.ok).toBe(false);
    expect(body.checks.map((c) => [c.id, c.ok])).toEqual([
      ["reachable", true],
      ["tls", false],
    ]);
    const tlsCheck = byId(body, "tls");
    expect(tlsCheck?.message).toMatch(
      /could not be verified: it is not signed by a CA Retrace trusts \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/,
    );
    expect(tlsCheck?.fix).toMatch(/Paste the certificate of the CA that signed the server's certificate/);
  });

  it("fails verify-full with another CA's certificate", async () => {
    const body = await check(tlsBody({ sslRootCert: otherCaPem }));
    expect(byId(body, "tls")).toMatchObject({ ok: false });
    expect(byId(body, "tls")?.message).toMatch(/not signed by the CA certificate given/);
  });

  it("fails verify-full under a host name the certificate does not name", async () => {
    const body = await check(tlsBody({ host: "127.0.0.1" }));
    const tlsCheck = byId(body, "tls");
    expect(tlsCheck).toMatchObject({ ok: false });
    expect(tlsCheck?.message).toBe(
      `The SSL certificate of 127.0.0.1:${tls.port} is not issued for the host name "127.0.0.1" ` +
        "(ERR_TLS_CERT_ALTNAME_INVALID).",
    );
    expect(tlsCheck?.fix).toMatch(/Connect with a host name the server's certificate names/);
  });

  it("says require encrypts but accepts any certificate", async () => {
    const body = await check(tlsBody({ sslMode: "require", sslRootCert: null }));
    expect(body.ok).toBe(true);
    expect(byId(body, "tls")?.message).toMatch(/Encrypted, but "require" accepts any certificate/);
  });

  it("refuses SSL mode disable at the server's pg_hba, as an authentication failure: choose an SSL mode", async () => {
    const body = await check(tlsBody({ sslMode: "disable", sslRootCert: null }));
    expect(byId(body, "authentication")).toMatchObject({ ok: false });
    expect(byId(body, "authentication")?.message).toMatch(/no encryption/);
    expect(byId(body, "authentication")?.fix).toMatch(/only accepts encrypted connections from here: choose SSL mode/);
  });

  it("connects with verify-full and the CA, keeps the CA, and the worker streams over it", async () => {
    if (!web) throw new Error("no store");
    const store = web;
    const response = await routes.list.POST(
      request("POST", "/api/databases", tlsBody({ tables: ["public.events"] })),
      noParams,
    );
    expect(response.status).toBe(201);
    const { database } = (await response.json()) as {
      database: { id: string; sslMode: string; sslRootCertGiven: boolean };
    };
    expect(database).toMatchObject({ sslMode: "verify-full", sslRootCertGiven: true });
    tlsDatabaseId = database.id;
    const { rows } = await store.server.query<{ ssl_root_cert: string }>(
      "select ssl_root_cert from sources where id = $1",
      [database.id],
      "retrace",
    );
    expect(rows[0]?.ssl_root_cert).toBe(caPem.trim());

    const { startWorker } = await import("../worker/worker");
    const { createLogger } = await import("../lib/log");
    const worker = startWorker({
      databaseUrl: store.url,
      secret: SECRET,
      logger: createLogger("tls-worker", "silent"),
      pollIntervalMs: 200,
      backoff: { minMs: 200, maxMs: 1_000 },
    });
    try {
      await waitFor("the source streaming", async () => {
        const { rows: status } = await store.server.query<{ status: string }>(
          "select status::text from sources where id = $1",
          [database.id],
          "retrace",
        );
        return status[0]?.status === "streaming" ? true : undefined;
      });
      await tlsQuery("insert into public.events values (1, 'over TLS')", "app");
      await waitFor("the change over TLS", async () => {
        const { rows: stored } = await store.server.query<{ n: number }>(
          "select count(*)::int as n from changes where source_id = $1",
          [database.id],
          "retrace",
        );
        return (stored[0]?.n ?? 0) > 0 ? true : undefined;
      });
      // The worker's sessions are encrypted.
      const sessions = await tlsQuery(
        "select bool_and(s.ssl) as all_ssl, count(*)::int as n " +
          "from pg_stat_activity a join pg_stat_ssl s using (pid) where a.usename = 'tls_user'",
      );
      expect(sessions.rows[0]).toMatchObject({ all_ssl: true });
    } finally {
      await worker.stop();
    }
  });
});

describe("editing the CA certificate of a connected database", () => {
  const storedCa = async () => {
    if (!web) throw new Error("no store");
    const { rows } = await web.server.query<{ ssl_root_cert: string | null }>(
      "select ssl_root_cert from sources where id = $1",
      [tlsDatabaseId],
      "retrace",
    );
    return rows[0]?.ssl_root_cert;
  };
  const patch = (body: unknown) =>
    routes.one.PATCH(request("PATCH", `/api/databases/${tlsDatabaseId}`, body), {
      params: Promise.resolve({ id: tlsDatabaseId }),
    });

  it("refuses another CA (the checks fail) and a private key (400), keeping the CA that works", async () => {
    expect(tlsDatabaseId).not.toBe("");
    const other = await patch({ sslRootCert: otherCaPem });
    expect(other.status).toBe(422);
    expect(JSON.stringify(await other.json())).toMatch(/certificate/i);
    expect(await storedCa()).toBe(caPem.trim());

    const key = await patch({ sslRootCert: "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----" });
    expect(key.status).toBe(400);
    expect(JSON.stringify(await key.json())).toMatch(/private key/);
    expect(await storedCa()).toBe(caPem.trim());
  });

  it("saves a CA that verifies the server, and verify-full without one is refused", async () => {
    const same = await patch({ sslRootCert: `${caPem.trim()}\n` });
    expect(same.status).toBe(200);
    expect(await storedCa()).toBe(caPem.trim());

    const none = await patch({ sslRootCert: null });
    expect(none.status).toBe(422);
    expect(await storedCa()).toBe(caPem.trim());
  });
});

describe("names free or already ours", () => {
  it("tells this Retrace's own slot from another's, and gives the SQL to drop an inactive stranger", async () => {
    const { rows } = await tlsQuery("select slot_name from pg_replication_slots");
    const ours = rows[0]?.slot_name as string;
    expect(ours).toMatch(/^retrace_[0-9a-f]{32}$/);
    const stranger = `retrace_${"0".repeat(32)}`;
    await tlsQuery(`select pg_create_logical_replication_slot('${stranger}', 'pgoutput')`, "app");
    try {
      const names = byId(await check(tlsBody()), "names");
      expect(names?.ok).toBe(true);
      expect(names?.message).toContain(`${ours} is "app"'s, connected in this Retrace.`);
      expect(names?.message).toContain(`${stranger} (slot, inactive)`);
      expect(names?.fix).toBe(
        "If no Retrace uses them (see Databases in every Retrace connected to this server), drop them:\n" +
          `SELECT pg_drop_replication_slot('${stranger}');`,
      );
    } finally {
      await tlsQuery(`select pg_drop_replication_slot('${stranger}')`);
    }
  });
});

describe("every other check against a server set up to fail it", () => {
  it("replication slots used up: the slot check fails with the fix", async () => {
    const body = await check(fullBody());
    const slots = byId(body, "replication_slots");
    expect(slots).toMatchObject({
      ok: false,
      message: "All 1 replication slots are in use (max_replication_slots = 1).",
    });
    expect(slots?.fix).toContain("ALTER SYSTEM SET max_replication_slots = 5;");
    expect(slots?.fix).toContain("pg_drop_replication_slot");
  });

  it("a table without SELECT: the read-only role's Verify names it and the owner's GRANT", async () => {
    const body = await check(
      fullBody({ username: "reader", password: "reader-pass-1", readTables: ["public.secrets", "public.open"] }),
    );
    const select = byId(body, "select");
    expect(select).toMatchObject({ ok: false });
    expect(select?.message).toMatch(/^reader may not SELECT from public\.secrets:/);
    expect(select?.fix).toContain('GRANT SELECT ON "public"."secrets" TO "reader";');
    expect(select?.fix).not.toContain('"open"');
  });

  it("Add Database reports every failing check at once, not only the first", async () => {
    const response = await routes.list.POST(
      request("POST", "/api/databases", fullBody({ username: "no_repl", password: "no-repl-pass-1" })),
      noParams,
    );
    expect(response.status).toBe(422);
    const { error } = (await response.json()) as ErrorBody;
    const failed = (error.details?.checks ?? []).filter((c) => !c.ok).map((c) => c.id);
    expect(failed).toEqual(["replication", "replication_slots"]);
    expect(error.message).toMatch(/1 more failed/);
    expect(error.details?.fix).toContain('ALTER ROLE "no_repl" WITH REPLICATION;');
  });

  it("a closed port: reachable fails with the network fix", async () => {
    const body = await check(fullBody({ port: await freePort() }));
    expect(body.checks).toHaveLength(1);
    expect(body.checks[0]).toMatchObject({ id: "reachable", ok: false });
    expect(body.checks[0]?.message).toMatch(/connection refused/);
    expect(body.checks[0]?.fix).toMatch(/listen_addresses/);
  });

  it("an unknown host name: reachable fails saying the name does not resolve", async () => {
    const body = await check(fullBody({ host: "no-such-host.invalid" }));
    expect(body.checks[0]).toMatchObject({ id: "reachable", ok: false });
    expect(body.checks[0]?.message).toMatch(/could not be resolved/);
  });

  it("a wrong password: authentication fails, after reachable and TLS passed", async () => {
    const body = await check(fullBody({ password: "Wrong-Pa55word-1" }));
    expect(body.checks.map((c) => [c.id, c.ok])).toEqual([
      ["reachable", true],
      ["tls", true],
      ["authentication", false],
    ]);
    expect(JSON.stringify(body)).not.toContain("Wrong-Pa55word-1");
  });

  it("an unknown database: the database check fails with CREATE DATABASE", async () => {
    const body = await check(fullBody({ database: "nope" }));
    expect(byId(body, "database")).toMatchObject({ ok: false });
    expect(byId(body, "database")?.fix).toContain('CREATE DATABASE "nope";');
  });

  it("a host the user says is RDS gets RDS's fixes and role SQL", async () => {
    const body = await check(fullBody({ port: await freePort(), hostKind: "rds" }));
    expect(body.hostKind).toEqual({ kind: "rds", label: "Amazon RDS / Aurora", detected: false });
    expect(body.checks[0]?.fix).toMatch(/security group/);
    expect(body.roleSql).toContain("GRANT rds_replication TO retrace;");
  });

  it("role SQL lists a default-privileges line for every owner of the schema's tables", async () => {
    await full.query(
      `create role team_a; create role team_b;
       grant create on schema public to team_a, team_b;
       set role team_a; create table public.a_table (id int);
       reset role; set role team_b; create table public.b_table (id int);`,
      [],
      "app",
    );
    const body = await check(fullBody());
    for (const owner of ["postgres", "team_a", "team_b"]) {
      expect(body.roleSql).toContain(
        `ALTER DEFAULT PRIVILEGES FOR ROLE "${owner}" IN SCHEMA "public" GRANT SELECT ON TABLES TO retrace;`,
      );
    }
    // Run as given (password filled in), then a table team_b creates later is readable by retrace.
    await full.query(body.roleSql.replace("choose-a-strong-password", "retrace-pass-1"), [], "app");
    await full.query(
      "set role team_b; create table public.later (id int); insert into public.later values (1);",
      [],
      "app",
    );
    const client = new pg.Client({
      host: "localhost",
      port: full.port,
      user: "retrace",
      password: "retrace-pass-1",
      database: "app",
    });
    await client.connect();
    try {
      expect((await client.query("select count(*)::int as n from public.later")).rows[0]).toEqual({ n: 1 });
    } finally {
      await client.end();
    }
  });
});
