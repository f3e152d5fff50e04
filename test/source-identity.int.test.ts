import fs from "node:fs";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptSecret } from "../lib/crypto/secrets";
import { freePort, startTestServer, startWebStore, type TestServer } from "./support/postgres";

/**
 * One database is one source, however its host is spelled: POST /api/databases against a source
 * server that listens on every address of this machine, reached as localhost, 127.0.0.1, ::1,
 * the host name and the machine's other addresses.
 */

const SECRET = "identity-secret-0123456789-abcdefghijklm";
const PASSWORD = "Repl1cation-Pa55word";

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let store: TestServer;
let source: TestServer;
let token = "";
let list: typeof import("../app/api/databases/route");
let tables: typeof import("../app/api/databases/[id]/tables/route");

type ErrorJson = { error: { code: string; message: string } };
type Created = { database: { id: string; name: string; slotName: string } };

/** Every address of this machine a client can connect to (link-local ones need a zone). */
function machineAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => !a.internal && !a.address.startsWith("fe80:"))
    .map((a) => a.address);
}

function post(body: Record<string, unknown>): Promise<Response> {
  return list.POST(
    new Request("http://localhost/api/databases", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        port: source.port,
        username: "replicator",
        password: PASSWORD,
        environment: "production",
        sslMode: "disable",
        ...body,
      }),
    }),
    { params: Promise.resolve({}) },
  );
}

async function connect(body: Record<string, unknown>): Promise<{ status: number; body: Created & ErrorJson }> {
  const response = await post(body);
  return { status: response.status, body: (await response.json()) as Created & ErrorJson };
}

async function remove(id: string) {
  const { DELETE } = await import("../app/api/databases/[id]/route");
  const response = await DELETE(
    new Request(`http://localhost/api/databases/${id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}` },
    }),
    { params: Promise.resolve({ id }) },
  );
  expect(response.status).toBe(200);
}

async function retraceSlots(database: string): Promise<string[]> {
  const { rows } = await source.query<{ slot_name: string }>(
    "select slot_name from pg_replication_slots where database = $1 order by 1",
    [database],
  );
  return rows.map((r) => r.slot_name);
}

async function serverIdentity(server: TestServer, database: string) {
  const { rows } = await server.query<{ system_identifier: string; database_oid: string }>(
    `select (select system_identifier::text from pg_control_system()) as system_identifier,
            (select oid::text from pg_database where datname = $1) as database_oid`,
    [database],
  );
  return rows[0];
}

async function storedIdentity(id: string) {
  const { rows } = await store.query<{ system_identifier: string | null; database_oid: string | null }>(
    "select system_identifier, database_oid::text from sources where id = $1",
    [id],
    "retrace",
  );
  return rows[0];
}

/** A sources row as Retrace stored it before it kept identities (migration 0007). */
async function insertUnidentified(name: string, host: string, port: number, database: string): Promise<string> {
  const { rows } = await store.query<{ id: string }>(
    `insert into sources (name, host, port, database, username, password_encrypted, ssl_mode, environment,
                          slot_name, publication_name)
     values ($1, $2, $3, $4, 'replicator', $5, 'disable', 'production', $6, $6) returning id::text as id`,
    [name, host, port, database, encryptSecret(PASSWORD, SECRET), `retrace_legacy_${name}`],
    "retrace",
  );
  const id = rows[0]?.id;
  if (!id) throw new Error("no id");
  return id;
}

beforeAll(async () => {
  [web, source] = await Promise.all([startWebStore(SECRET), startTestServer({ flags: ["-c", "listen_addresses=*"] })]);
  store = web.server;
  const { getDb } = await import("../lib/db");
  const { createApiToken } = await import("../lib/auth/tokens");
  token = (await createApiToken(getDb(), "identity")).token;
  list = await import("../app/api/databases/route");
  tables = await import("../app/api/databases/[id]/tables/route");

  // The server accepts this machine's other addresses too (initdb allows loopback only).
  const { rows } = await source.query<{ hba_file: string }>("show hba_file");
  const hba = rows[0]?.hba_file ?? "";
  const lines = machineAddresses().map((a) => `host all all ${a}/${a.includes(":") ? 128 : 32} password`);
  fs.appendFileSync(hba, `${lines.join("\n")}\n`);
  await source.query("select pg_reload_conf()");

  for (const database of ["app", "other", "legacy"]) await source.createDatabase(database);
  await source.query(`create role replicator with login replication password '${PASSWORD}';
                      grant create on database app, other, legacy to replicator;`);
});

afterAll(async () => {
  await Promise.all([web?.close(), source?.stop()]);
});

describe("one database, one source", () => {
  let id = "";

  it("stores what the server says it is", async () => {
    const { status, body } = await connect({ host: "localhost", database: "app" });
    expect(status).toBe(201);
    id = body.database.id;
    const expected = await serverIdentity(source, "app");
    expect(await storedIdentity(id)).toEqual(expected);
  });

  it("refuses the same database under every other spelling of its host, naming the one connected", async () => {
    const spellings = ["127.0.0.1", "::1", os.hostname(), "LOCALHOST", ...machineAddresses()];
    expect(spellings.length).toBeGreaterThan(4);
    for (const host of spellings) {
      const { status, body } = await connect({ host, database: "app", name: `app via ${host}` });
      expect(status, host).toBe(409);
      expect(body.error.message).toContain(`already connected as "app" (localhost:${source.port}/app)`);
    }
    expect(await retraceSlots("app")).toEqual([`retrace_${id.replaceAll("-", "")}`]);
    const { rows } = await store.query<{ n: number }>("select count(*)::int as n from sources", [], "retrace");
    expect(rows[0]?.n).toBe(1);
  });

  it("accepts another database of the same server, and a same-named database of another server", async () => {
    const other = await connect({ host: "127.0.0.1", database: "other" });
    expect(other.status).toBe(201);
    await store.createDatabase("app");
    const elsewhere = await connect({
      host: "localhost",
      port: store.port,
      database: "app",
      username: "postgres",
      password: store.password,
    });
    expect(elsewhere.status).toBe(201);
    expect((await storedIdentity(elsewhere.body.database.id))?.system_identifier).not.toBe(
      (await storedIdentity(id))?.system_identifier,
    );
    await remove(other.body.database.id);
    await remove(elsewhere.body.database.id);
  });

  it("lets exactly one of two racing connections of the same database through, and cleans up the other", async () => {
    await remove(id);
    const results = await Promise.all([
      connect({ host: "localhost", database: "app" }),
      connect({ host: "127.0.0.1", database: "app" }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const winner = results.find((r) => r.status === 201);
    id = winner?.body.database.id ?? "";
    await expect.poll(() => retraceSlots("app")).toEqual([`retrace_${id.replaceAll("-", "")}`]);
    const publications = await source.query<{ pubname: string }>("select pubname from pg_publication", [], "app");
    expect(publications.rows.map((r) => r.pubname)).toEqual([`retrace_${id.replaceAll("-", "")}`]);
    await remove(id);
  });

  it("asks IDENTIFY_SYSTEM on a replication connection when pg_control_system() is not granted", async () => {
    // Function privileges are per database.
    await source.query("revoke execute on function pg_control_system() from public", [], "app");
    try {
      const { status, body } = await connect({ host: "localhost", database: "app" });
      expect(status).toBe(201);
      expect(await storedIdentity(body.database.id)).toEqual(await serverIdentity(source, "app"));
      expect((await connect({ host: "127.0.0.1", database: "app" })).status).toBe(409);
      await remove(body.database.id);
    } finally {
      await source.query("grant execute on function pg_control_system() to public", [], "app");
    }
  });
});

describe("sources connected before identities were kept", () => {
  it("identifies them with their own credentials when another connection is tried, and stores it", async () => {
    const legacy = await insertUnidentified("legacy", "127.0.0.1", source.port, "legacy");
    const { status, body } = await connect({ host: "localhost", database: "legacy" });
    expect(status).toBe(409);
    expect(body.error.message).toContain('already connected as "legacy"');
    expect(await storedIdentity(legacy)).toEqual(await serverIdentity(source, "legacy"));
    await store.query("delete from sources where id = $1", [legacy], "retrace");
  });

  it("compares one it cannot reach by its address, as before", async () => {
    const port = await freePort();
    const gone = await insertUnidentified("gone", "localhost", port, "legacy");
    const { findSameDatabase } = await import("../lib/sources/identity");
    const { getDb } = await import("../lib/db");
    const identity = { systemIdentifier: "1", databaseOid: 1 };
    const address = { host: "LocalHost", port, database: "legacy" };
    expect(await findSameDatabase(getDb(), SECRET, identity, address)).toMatchObject({ id: gone, name: "gone" });
    expect(await findSameDatabase(getDb(), SECRET, identity, { ...address, database: "other" })).toBeNull();
    expect(await storedIdentity(gone)).toEqual({ system_identifier: null, database_oid: null });
    await store.query("delete from sources where id = $1", [gone], "retrace");
  });

  it("fills the identity in the next time Retrace reaches the source", async () => {
    const legacy = await insertUnidentified("later", "localhost", source.port, "legacy");
    const response = await tables.GET(
      new Request(`http://localhost/api/databases/${legacy}/tables`, { headers: { authorization: `Bearer ${token}` } }),
      { params: Promise.resolve({ id: legacy }) },
    );
    expect(response.status).toBe(200);
    expect(await storedIdentity(legacy)).toEqual(await serverIdentity(source, "legacy"));
    await store.query("delete from sources where id = $1", [legacy], "retrace");
  });
});
