import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ChangePage } from "../lib/changes/queries";
import { connectStore } from "../lib/db/client";
import { migrateStore } from "../lib/db/migrate";
import type { ListDatabasesResponse } from "../lib/sources/api-types";
import { startTestServer, type TestServer } from "./support/postgres";
import { SECRET } from "./support/servers";
import { makeCertificates, type TestCertificates } from "./support/tls";
import { waitFor } from "./support/wait";
import { isRunning, killWorkerProcesses, spawnWorkerProcess } from "./support/worker";

/**
 * The store on a PostgreSQL run the way managed services run it: it accepts only TLS, with a certificate from a CA
 * of its own, and Retrace's role is no superuser (NOSUPERUSER NOCREATEDB NOCREATEROLE, no REPLICATION), owning
 * its database and nothing else. Migrations run as that role over verify-full, the worker process streams a source
 * into it, and the web app's routes list the changes; a wrong CA, a host name the certificate does not name and a
 * plain connection are each refused with what to change, and nothing is written meanwhile.
 */

const ROLE = "retrace_app";
const ROLE_PASSWORD = "Managed-Store-Pa55word";
const ROOT = path.resolve(import.meta.dirname, "..");

let certificates: TestCertificates | undefined;
let store: TestServer | undefined;
let source: TestServer | undefined;
let token = "";
const savedEnv = { ...process.env };

function storeUrl(sslmode: string, host = "localhost"): string {
  if (!store) throw new Error("store not started");
  return `postgres://${ROLE}:${ROLE_PASSWORD}@${host}:${store.port}/retrace?sslmode=${sslmode}`;
}

/** A query on the TLS-only store server (encrypted, certificate not checked), as its superuser unless `as` says. */
async function adminQuery<T extends pg.QueryResultRow>(
  sql: string,
  database = "retrace",
  as?: { user: string; password: string },
): Promise<T[]> {
  if (!store) throw new Error("store not started");
  const client = new pg.Client({
    host: "localhost",
    port: store.port,
    user: as?.user ?? "postgres",
    password: as?.password ?? store.password,
    database,
    ssl: { rejectUnauthorized: false },
  });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** The `retrace` command line, as an operator runs it, with the store's TLS settings in its environment. */
function retrace(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [path.join(ROOT, "bin/retrace.mjs"), ...args], {
    cwd: ROOT,
    env: { ...process.env, RETRACE_SECRET: SECRET, ...env },
    encoding: "utf8",
    timeout: 90_000,
  });
  return { status: result.status, output: result.stdout + result.stderr };
}

type Route = { GET: (request: Request, context: { params: Promise<Record<string, never>> }) => Promise<Response> };

async function getText(route: Route, url: string): Promise<string> {
  const response = await route.GET(
    new Request(`http://localhost${url}`, { headers: { authorization: `Bearer ${token}` } }),
    { params: Promise.resolve({}) },
  );
  expect(response.status).toBe(200);
  return response.text();
}

const get = async <T>(route: Route, url: string): Promise<T> => JSON.parse(await getText(route, url)) as T;

beforeAll(async () => {
  certificates = makeCertificates();
  [store, source] = await Promise.all([
    startTestServer({ flags: certificates.serverFlags }),
    startTestServer({ flags: ["-c", "track_commit_timestamp=on"] }),
  ]);
  // A managed service's admin user: it may create roles and databases, and is no superuser (RDS's master user,
  // Cloud SQL's postgres, Neon's owner role). It runs the README's SQL for the store's role, statement by statement.
  await adminQuery(
    "create role provider_admin with login createdb createrole password 'provider-admin-pw'",
    "postgres",
  );
  const providerAdmin = { user: "provider_admin", password: "provider-admin-pw" };
  await adminQuery(`create role ${ROLE} login password '${ROLE_PASSWORD}'`, "postgres", providerAdmin);
  await adminQuery(`grant ${ROLE} to current_user`, "postgres", providerAdmin);
  await adminQuery(`create database retrace owner ${ROLE}`, "postgres", providerAdmin);
  await source.createDatabase("app");
  await source.query(
    "create table public.accounts (id int primary key, owner text not null, balance numeric(30, 10))",
    [],
    "app",
  );
  process.env.RETRACE_STORE_SSL_ROOT_CERT = certificates.caFile;
  process.env.DATABASE_URL = storeUrl("verify-full");
  process.env.RETRACE_SECRET = SECRET;
});

afterAll(async () => {
  await killWorkerProcesses();
  if (token) {
    const { getStore } = await import("../lib/db");
    await getStore()
      .pool.end()
      .catch(() => undefined);
  }
  await Promise.allSettled([store?.stop(), source?.stop()]);
  certificates?.remove();
  process.env = { ...savedEnv };
});

describe("a managed store: TLS only, a role that is no superuser", () => {
  beforeEach(() => {
    if (certificates) process.env.RETRACE_STORE_SSL_ROOT_CERT = certificates.caFile;
  });

  it("has a role with no special attribute, owning only its database", async () => {
    const [role] = await adminQuery<Record<string, boolean>>(
      `select rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls, rolinherit
         from pg_roles where rolname = '${ROLE}'`,
    );
    expect(role).toMatchObject({
      rolsuper: false,
      rolcreatedb: false,
      rolcreaterole: false,
      rolreplication: false,
      rolbypassrls: false,
    });
    const [database] = await adminQuery<{ owner: string }>(
      "select pg_get_userbyid(datdba) as owner from pg_database where datname = 'retrace'",
    );
    expect(database?.owner).toBe(ROLE);
    const memberships = await adminQuery(
      `select 1 from pg_auth_members m join pg_roles r on r.oid = m.member where r.rolname = '${ROLE}'`,
    );
    expect(memberships).toEqual([]);
  });

  it("refuses a wrong CA, a host name not in the certificate and a plain connection, writing nothing", async () => {
    if (!certificates) throw new Error("no certificates");
    process.env.RETRACE_STORE_SSL_ROOT_CERT = certificates.otherCaFile;
    const wrongCa = await migrateStore(storeUrl("verify-full")).then(
      () => new Error("migrated"),
      (error: unknown) => error as Error,
    );
    expect(wrongCa.message).toBe(
      `The store's TLS certificate at localhost:${store?.port} is not signed by the CA certificate in ` +
        `${certificates.otherCaFile} (RETRACE_STORE_SSL_ROOT_CERT) (UNABLE_TO_VERIFY_LEAF_SIGNATURE). Set ` +
        "RETRACE_STORE_SSL_ROOT_CERT (or sslrootcert in DATABASE_URL) to the CA file of the store's provider.",
    );
    // The URL's own sslrootcert names the file instead, and wins over the variable.
    process.env.RETRACE_STORE_SSL_ROOT_CERT = certificates.caFile;
    await expect(
      migrateStore(`${storeUrl("verify-full")}&sslrootcert=${encodeURIComponent(certificates.otherCaFile)}`),
    ).rejects.toThrow(`not signed by the CA certificate in ${certificates.otherCaFile} (sslrootcert)`);

    await expect(migrateStore(storeUrl("verify-full", "127.0.0.1"))).rejects.toThrow(
      /^The store's TLS certificate is not issued for the host name in DATABASE_URL \(127\.0\.0\.1:\d+\)/,
    );
    await expect(migrateStore(storeUrl("disable"))).rejects.toThrow(
      `The store at localhost:${store?.port} accepts only encrypted connections for ${ROLE}: add ` +
        "sslmode=verify-full (or sslmode=require) to DATABASE_URL.",
    );
    await expect(migrateStore(storeUrl("prefer"))).rejects.toThrow(/sslmode=prefer is not supported for the store/);

    // The worker process says the same and stops; nothing in what it printed is the password.
    const worker = spawnWorkerProcess({
      DATABASE_URL: storeUrl("verify-full"),
      RETRACE_STORE_SSL_ROOT_CERT: certificates.otherCaFile,
      WORKER_METRICS_PORT: "0",
    });
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toContain("is not signed by the CA certificate in");
    expect(worker.output()).not.toContain(ROLE_PASSWORD);

    const { status, output } = retrace(["migrate"], {
      DATABASE_URL: storeUrl("verify-full"),
      RETRACE_STORE_SSL_ROOT_CERT: certificates.otherCaFile,
    });
    expect(status).toBe(1);
    expect(output).toContain("retrace: The store's TLS certificate at localhost:");
    expect(output).not.toContain(ROLE_PASSWORD);

    const tables = await adminQuery("select schemaname, tablename from pg_tables where tableowner = 'retrace_app'");
    expect(tables).toEqual([]);
  });

  it("runs every migration as that role over verify-full: the CLI, then the web app's and worker's own", async () => {
    if (!certificates) throw new Error("no certificates");
    const cli = retrace(["migrate"], {
      DATABASE_URL: storeUrl("verify-full"),
      // A path relative to where the operator runs the command.
      RETRACE_STORE_SSL_ROOT_CERT: path.relative(ROOT, certificates.caFile),
    });
    expect(cli.output).toContain("Migrations applied.");
    expect(cli.status).toBe(0);
    // Applying them again (every process does at start) changes nothing.
    await migrateStore(storeUrl("verify-full"));

    const journal = JSON.parse(fs.readFileSync(path.join(ROOT, "drizzle/meta/_journal.json"), "utf8")) as {
      entries: unknown[];
    };
    const [applied] = await adminQuery<{ n: number }>("select count(*)::int as n from drizzle.__drizzle_migrations");
    expect(applied?.n).toBe(journal.entries.length);
    // Everything the migrations made belongs to the role: nothing needed anyone else.
    const foreign = await adminQuery(
      `select c.relname, r.rolname from pg_class c join pg_namespace n on n.oid = c.relnamespace
         join pg_roles r on r.oid = c.relowner
        where n.nspname in ('public', 'drizzle') and r.rolname <> '${ROLE}'`,
    );
    expect(foreign).toEqual([]);
    const [owned] = await adminQuery<{ n: number }>(
      `select count(*)::int as n from pg_tables where tableowner = '${ROLE}' and tablename = 'changes'`,
    );
    expect(owned?.n).toBe(1);

    const own = connectStore(storeUrl("verify-full"), { max: 1 });
    try {
      const { rows } = await own.pool.query<{ ssl: boolean }>(
        "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
      );
      expect(rows[0]?.ssl).toBe(true);
      // Direct TLS negotiation (PostgreSQL 17 and later), verified the same way.
      const direct = connectStore(`${storeUrl("verify-full")}&sslnegotiation=direct`, { max: 1 });
      try {
        const { rows: directRows } = await direct.pool.query<{ ssl: boolean }>(
          "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
        );
        expect(directRows[0]?.ssl).toBe(true);
      } finally {
        await direct.pool.end();
      }
      // sslmode=require encrypts without checking the certificate, as libpq's does (no CA given).
      delete process.env.RETRACE_STORE_SSL_ROOT_CERT;
      const unverified = connectStore(storeUrl("require"), { max: 1 });
      try {
        const { rows: plain } = await unverified.pool.query<{ ssl: boolean }>(
          "select ssl from pg_stat_ssl where pid = pg_backend_pid()",
        );
        expect(plain[0]?.ssl).toBe(true);
      } finally {
        await unverified.pool.end();
      }
    } finally {
      await own.pool.end();
    }
  });

  it("takes a source's changes from the worker process, and the web app's routes list them", async () => {
    if (!certificates || !source) throw new Error("servers not started");
    const { getDb } = await import("../lib/db");
    const { createApiToken } = await import("../lib/auth/tokens");
    const { connectDatabase } = await import("../lib/sources/connect-database");
    token = (await createApiToken(getDb(), "managed-store")).token;
    const created = await connectDatabase(getDb(), SECRET, {
      host: "localhost",
      port: source.port,
      database: "app",
      username: "postgres",
      password: source.password,
      sslMode: "disable",
      environment: "production",
      tables: ["public.accounts"],
    });

    const worker = spawnWorkerProcess({
      DATABASE_URL: storeUrl("verify-full"),
      RETRACE_STORE_SSL_ROOT_CERT: certificates.caFile,
      WORKER_METRICS_PORT: "0",
      RETRACE_ALLOW_LOCAL_SOURCES: "true",
    });
    const databasesRoute = await import("../app/api/databases/route");
    const changesRoute = await import("../app/api/changes/route");
    // The web app reads the worker's lease from the store's lock table, which the role may read.
    await waitFor(
      "the worker to stream the source",
      async () => {
        if (!isRunning(worker)) throw new Error(`worker exited:\n${worker.output()}`);
        const { databases } = await get<ListDatabasesResponse>(databasesRoute, "/api/databases");
        return databases.find((database) => database.id === created.id)?.health.state === "live";
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );

    await source.query(
      `insert into public.accounts values (1, 'ada', 12345678901234567890.0123456789), (2, 'grace', 0);
       update public.accounts set balance = balance + 1 where id = 1;
       delete from public.accounts where id = 2;`,
      [],
      "app",
    );
    const page = await waitFor(
      "the changes in the web app's list",
      async () => {
        const listed = await get<ChangePage>(changesRoute, "/api/changes?table=accounts");
        return listed.changes.length === 4 ? listed : null;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(page.changes.map((change) => [change.operation, change.primaryKey, change.environment])).toEqual([
      ["DELETE", "2", "production"],
      ["UPDATE", "1", "production"],
      ["CREATE", "2", "production"],
      ["CREATE", "1", "production"],
    ]);
    // Every digit kept, through the store and the web app's answer.
    const updated = await getText(changesRoute, "/api/changes?table=accounts&operation=UPDATE");
    expect(updated).toMatch(/"balance": ?12345678901234567891\.0123456789\b/);

    // The worker's sealer chains them too, as the same role.
    await waitFor(
      "the sealer to seal the four changes",
      async () => {
        const [sealed] = await adminQuery<{ n: number }>(
          `select count(*)::int as n from change_seals where source_id = '${created.id}'`,
        );
        return sealed?.n === 4;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );

    // Every session of the role is encrypted (the server accepts nothing else), the worker's lease among them.
    const sessions = await adminQuery<{ application_name: string; ssl: boolean }>(
      `select a.application_name, s.ssl from pg_stat_activity a join pg_stat_ssl s using (pid)
        where a.usename = '${ROLE}'`,
    );
    expect(sessions.map((session) => session.application_name)).toContain("retrace-worker-lease");
    expect(sessions.every((session) => session.ssl)).toBe(true);
    expect(worker.output()).not.toContain(ROLE_PASSWORD);
  });

  it("migrates as a role that does not own the database once granted CREATE on it and on public", async () => {
    await adminQuery(
      `create role retrace_granted with login nosuperuser nocreatedb nocreaterole noreplication
         password '${ROLE_PASSWORD}'`,
      "postgres",
    );
    await adminQuery("create database retrace_granted", "postgres");
    const url = storeUrl("verify-full")
      .replace(`${ROLE}:`, "retrace_granted:")
      .replace("/retrace?", "/retrace_granted?");
    await expect(migrateStore(url)).rejects.toThrow(
      "The store role retrace_granted lacks a privilege in retrace_granted (permission denied for database " +
        "retrace_granted). It needs to own the database, or CREATE on it and on its schema public",
    );
    await adminQuery("grant create on database retrace_granted to retrace_granted", "postgres");
    await expect(migrateStore(url)).rejects.toThrow(
      /lacks a privilege in retrace_granted \(permission denied for schema public\)/,
    );
    await adminQuery("grant create on schema public to retrace_granted", "retrace_granted");
    await migrateStore(url);
    const [changes] = await adminQuery<{ owner: string }>(
      "select tableowner as owner from pg_tables where schemaname = 'public' and tablename = 'changes'",
      "retrace_granted",
    );
    expect(changes?.owner).toBe("retrace_granted");
  });
});
