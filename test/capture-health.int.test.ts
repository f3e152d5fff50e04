import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/auth/tokens";
import { connectStore, type Store } from "@/lib/db/client";
import type { DatabaseJson, ListDatabasesResponse } from "@/lib/sources/api-types";
import { leaseKey } from "@/lib/sources/lease";
import { startWebStore } from "./support/postgres";

/**
 * GET /api/databases says whether capture of each source is live (lib/sources/health.ts), from its row and from
 * whether a worker holds its lease now: an advisory lock in the store, held here by a client of the test the way
 * the worker holds it (worker/lease.ts).
 */

let web: Awaited<ReturnType<typeof startWebStore>> | undefined;
let store: Store;
let token: string;
const leases: pg.Client[] = [];

// Lease keys of both signs: -5300134384970267007 and 1302807816985288234.
const LIVE = "00000000-0000-4000-8000-000000000001";
const BEHIND = "00000000-0000-4000-8000-000000000002";
const ORPHAN = "00000000-0000-4000-8000-000000000003";
const BROKEN = "00000000-0000-4000-8000-000000000004";
const PAUSED = "00000000-0000-4000-8000-000000000005";

async function insertSource(id: string, columns: Record<string, unknown>): Promise<void> {
  const row: Record<string, unknown> = {
    id,
    name: `source-${id.slice(-1)}`,
    host: "db.example.com",
    port: 5432,
    database: "shop",
    username: "retrace",
    password_encrypted: "v1:dummy",
    environment: "production",
    slot_name: `retrace_${id.slice(-1)}`,
    publication_name: `retrace_${id.slice(-1)}`,
    status: "streaming",
    lag_bytes: 0,
    lag_seconds: 0.2,
    lag_measured_at: new Date(),
    ...columns,
  };
  const names = Object.keys(row);
  await store.pool.query(
    `insert into sources (${names.join(", ")}) values (${names.map((_, i) => `$${i + 1}`).join(", ")})`,
    Object.values(row),
  );
}

/** What a worker holds while it streams a source. */
async function holdLease(sourceId: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: web?.url });
  await client.connect();
  const { rows } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock($1::bigint) as locked", [
    leaseKey(sourceId),
  ]);
  expect(rows[0]?.locked).toBe(true);
  leases.push(client);
  return client;
}

async function databases(): Promise<Map<string, DatabaseJson>> {
  const { GET } = await import("@/app/api/databases/route");
  const response = await GET(
    new Request("http://localhost/api/databases", {
      headers: { authorization: `Bearer ${token}` },
    }),
    { params: Promise.resolve({}) },
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as ListDatabasesResponse;
  return new Map(body.databases.map((database) => [database.id, database]));
}

beforeAll(async () => {
  web = await startWebStore();
  store = connectStore(web.url, { max: 2 });
  token = (await createApiToken(store.db, "health-test")).token;
  const failingSince = "2026-12-05 10:00:00.123456+00";
  await insertSource(LIVE, {});
  await insertSource(BEHIND, { lag_bytes: 52_000_000, lag_seconds: 95 });
  await insertSource(ORPHAN, {});
  await insertSource(BROKEN, {
    status: "error",
    last_error: "Could not reach db.example.com:5432: connection refused.",
    last_error_fix: "Check that PostgreSQL is running on db.example.com:5432.",
    failing_since: failingSince,
  });
  // Paused while it was failing: the row keeps the old error, which no longer describes anything.
  await insertSource(PAUSED, {
    enabled: false,
    status: "paused",
    last_error: "Could not reach db.example.com:5432: connection refused.",
    failing_since: failingSince,
  });
  for (const id of [LIVE, BEHIND, BROKEN]) await holdLease(id);
});

afterAll(async () => {
  await Promise.allSettled(leases.map((client) => client.end()));
  await store?.pool.end();
  await web?.close();
});

describe("capture health in GET /api/databases", () => {
  it("is live only where a worker holds the source and the trail keeps up", async () => {
    const all = await databases();
    expect(all.get(LIVE)?.health).toEqual({ state: "live", reason: null, fix: null, lagCurrent: true });
    expect(all.get(BEHIND)?.health).toMatchObject({
      state: "lagging",
      reason: "The audit trail is 95 s behind the source.",
      lagCurrent: true,
    });
    expect(all.get(ORPHAN)?.health).toMatchObject({
      state: "no_worker",
      reason: "No Retrace worker is streaming this database.",
      lagCurrent: false,
    });
  });

  it("gives a failing source's reason, fix and since when; a paused one's error is not current", async () => {
    const all = await databases();
    expect(all.get(BROKEN)).toMatchObject({
      status: "error",
      lastError: "Could not reach db.example.com:5432: connection refused.",
      lastErrorFix: "Check that PostgreSQL is running on db.example.com:5432.",
      failingSince: "2026-12-05T10:00:00.123Z",
      health: {
        state: "failing",
        reason: "Could not reach db.example.com:5432: connection refused.",
        fix: "Check that PostgreSQL is running on db.example.com:5432.",
        lagCurrent: false,
      },
    });
    expect(all.get(PAUSED)).toMatchObject({
      failingSince: null,
      health: { state: "paused", lagCurrent: false },
    });
  });

  it("follows the lease: a worker that lets go of a source leaves it without one", async () => {
    const [live] = leases;
    await live?.end();
    await expect.poll(async () => (await databases()).get(LIVE)?.health.state).toBe("no_worker");
  });
});
