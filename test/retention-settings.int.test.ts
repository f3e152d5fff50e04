/**
 * Retention settings and the storage report through the real route handlers, against a real store that the real
 * worker writes changes into: validation (a 400 naming the field, nothing changed), who may change rules, the
 * audit row, and storage figures checked against the PostgreSQL catalog and the stored rows themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Worker } from "../worker/worker";
import { callerHeaders, type Caller } from "./support/principals";
import { addSource, SECRET, startServers, trackTables, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";

type Handler = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;
type Routes = Record<string, Record<string, Handler | undefined>>;

let servers: Servers;
let worker: Worker | undefined;
let routes: Routes;
let headers: Record<Caller, Record<string, string>>;
let shopId: string;
let crmId: string;

const CAPTURED = 30;
const OLD_ROWS = 10;
const CRM_ROWS = 5;

async function call(route: string, method: string, caller: Caller, body?: unknown) {
  const handler = routes[route]?.[method];
  if (!handler) throw new Error(`no ${method} ${route}`);
  const response = await handler(
    new Request(`http://localhost${route}`, {
      method,
      headers: { "content-type": "application/json", ...headers[caller] },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
    { params: Promise.resolve({}) },
  );
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as unknown };
}

/** Rows written by hand (as the worker would store them), summarised as the worker summarises its own. */
async function insertChanges(sourceId: string, database: string, environment: string, count: number, at: string) {
  const [row] = await servers.storeQuery<{ min: string; max: string }>(
    `with inserted as (
       insert into changes (source_id, environment, database, schema, "table", primary_key, operation, after,
                            transaction_id, commit_lsn, seq, committed_at, queued_at)
       select $1, $3, $2, 'public', 'history', i::text, 'CREATE', json_build_object('id', i, 'pad', repeat('x', 200)),
              1000 + i, ('0/' || to_hex(4096 + i))::pg_lsn, 0, $4::timestamptz, $4::timestamptz
         from generate_series(1, $5::int) as i
       returning id)
     select min(id)::text as min, max(id)::text as max from inserted`,
    [sourceId, database, environment, at, count],
  );
  const { summarizeStoredRows } = await import("../lib/changes/segments");
  await summarizeStoredRows(servers.storePool, row?.min ?? "0", row?.max ?? "0");
}

/** A partition of `sourceId`'s own bucket for [from, to), in the catalog as the worker makes them. */
async function makePartition(name: string, sourceId: string, from: string, to: string) {
  await servers.storeQuery(
    `create table ${name} partition of changes
       for values from ('${sourceId}', '', '${from}') to ('${sourceId}', '', '${to}')`,
  );
  await servers.storeQuery(
    "insert into trail_partitions (name, source_id, bucket, from_at, to_at) values ($1, $2, '', $3, $4)",
    [name, sourceId, from, to],
  );
}

const DAY = 86_400_000;
const utcDay = (offset: number) => new Date(Math.floor(Date.now() / DAY) * DAY + offset * DAY).toISOString();

beforeAll(async () => {
  // No autovacuum: it would add visibility-map pages to a table between two measurements.
  servers = await startServers({ storeFlags: ["-c", "autovacuum=off"] });
  await servers.sourceQuery(`
    create table items (id int primary key, name text);
    create table notes (id int primary key, body text);`);
  shopId = await trackTables(servers, { tables: ["items", "notes"], publication: "retrace_pub", slot: "retrace_ret" });
  // A second database (not streamed) whose changes sit in the default partition.
  crmId = await addSource(servers, {
    slotName: "unused",
    publicationName: "unused",
    database: "crm",
    environment: "staging",
  });
  await servers.storeQuery("update sources set enabled = false where id = $1", [crmId]);
  await makePartition("changes_test_old", shopId, utcDay(-40), utcDay(-39));
  await insertChanges(shopId, "app", "test", OLD_ROWS, utcDay(-40));
  await insertChanges(crmId, "crm", "staging", CRM_ROWS, new Date().toISOString());

  process.env.DATABASE_URL = servers.storeUrl;
  process.env.RETRACE_SECRET = SECRET;
  headers = await callerHeaders(SECRET);
  routes = {
    "/api/retention": await import("@/app/api/retention/route"),
    "/api/retention/preview": await import("@/app/api/retention/preview/route"),
    "/api/storage": await import("@/app/api/storage/route"),
  } as unknown as Routes;

  worker = startTestWorker(servers);
  for (let i = 1; i <= CAPTURED / 3; i++) {
    await servers.sourceQuery(`begin;
      insert into items values (${i}, 'item ${i}');
      insert into notes values (${i}, repeat('note ', 50));
      update items set name = 'renamed ${i}' where id = ${i};
      commit;`);
  }
  await waitFor(`${CAPTURED} changes captured`, async () => {
    const [row] = await servers.storeQuery<{ n: number }>(
      "select count(*)::int as n from changes where source_id = $1 and committed_at > now() - interval '1 hour'",
      [shopId],
    );
    return row?.n === CAPTURED;
  });
  await worker.stop();
  worker = undefined;
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  if (process.env.DATABASE_URL === servers?.storeUrl) {
    const { getStore } = await import("@/lib/db");
    await getStore()
      .pool.end()
      .catch(() => undefined);
  }
  await servers?.stop();
});

const sizeOf = async (relation: string) =>
  Number(
    (await servers.storeQuery<{ n: string }>("select pg_total_relation_size($1::regclass)::text as n", [relation]))[0]
      ?.n,
  );

describe("GET /api/storage", () => {
  it("gives the trail's size as the catalog has it, and its changes as the store holds them", async () => {
    const answer = await call("/api/storage", "GET", "readOnlyToken");
    expect(answer.status).toBe(200);
    const report = answer.body as import("../lib/retention/api-types").StorageJson;
    const [catalog] = await servers.storeQuery<{ bytes: string; rows: number }>(`
      select (select sum(pg_total_relation_size(relid)) from pg_partition_tree('changes') where isleaf)::text as bytes,
             (select count(*)::int from changes) as rows`);
    expect(report.trail.bytes).toBe(Number(catalog?.bytes));
    expect(report.trail.rows).toBe(CAPTURED + OLD_ROWS + CRM_ROWS);
    expect(report.trail.rows).toBe(catalog?.rows);
    // The worker's partition keeper made partitions ahead (and may have swept the default partition): the catalog
    // says which there are.
    const [partitions] = await servers.storeQuery<{ n: number }>("select count(*)::int as n from trail_partitions");
    expect(partitions?.n).toBeGreaterThan(1);
    expect(report.trail.partitions).toBe(partitions?.n);
    const [outside] = await servers.storeQuery<{ n: number }>("select count(*)::int as n from changes_default");
    expect(report.trail.unpartitioned).toEqual({ bytes: await sizeOf("changes_default"), rows: outside?.n });

    const [empty] = await servers.storeQuery<{ partitions: number; bytes: string }>(
      `select count(*)::int as partitions, coalesce(sum(pg_total_relation_size(name::regclass)), 0)::text as bytes
         from trail_partitions p where not exists (select 1 from changes c where c.tableoid = p.name::regclass)`,
    );
    expect(empty?.partitions).toBeGreaterThan(0);
    expect(report.trail.empty).toEqual({ partitions: empty?.partitions, bytes: Number(empty?.bytes) });

    // Each database: exactly the sizes of its partitions, plus its share (by count) of the default partition.
    for (const [sourceId, rows, environment] of [
      [shopId, CAPTURED + OLD_ROWS, "test"],
      [crmId, CRM_ROWS, "staging"],
    ] as const) {
      const [own] = await servers.storeQuery<{ bytes: string; outside: number }>(
        `select (select coalesce(sum(pg_total_relation_size(name::regclass)), 0) from trail_partitions
                  where source_id = $1)::text as bytes,
                (select count(*)::int from changes_default where source_id = $1) as outside`,
        [sourceId],
      );
      const share = outside?.n ? ((await sizeOf("changes_default")) * (own?.outside ?? 0)) / outside.n : 0;
      const database = report.databases.find((d) => d.sourceId === sourceId);
      expect(database).toMatchObject({ rows, environment, estimated: (own?.outside ?? 0) > 0 });
      expect(Math.abs((database?.bytes ?? 0) - (Number(own?.bytes) + share))).toBeLessThanOrEqual(1);
    }
    expect(report.environments.map((e) => [e.name, e.rows])).toEqual([
      ["test", CAPTURED + OLD_ROWS],
      ["staging", CRM_ROWS],
    ]);

    // Per table: the stored rows, to the change.
    const perTable = await servers.storeQuery<{ table: string; source_id: string; n: number }>(
      `select schema || '.' || "table" as "table", source_id, count(*)::int as n from changes group by 1, 2`,
    );
    expect(report.tables.map((t) => [t.sourceId, t.table, t.rows]).sort()).toEqual(
      perTable.map((t) => [t.source_id, t.table, t.n]).sort(),
    );
    const items = report.tables.find((t) => t.table === "public.items");
    expect(items?.estimatedBytes).toBeGreaterThan(0);

    // Growth: 30 days; today's changes on today, the old partition's 40 days ago is outside the window.
    expect(report.growth).toHaveLength(30);
    const today = report.growth.at(-1);
    expect(today?.day).toBe(new Date().toISOString().slice(0, 10));
    expect(report.growth.reduce((sum, day) => sum + day.rows, 0)).toBe(CAPTURED + CRM_ROWS);

    const seals = report.overhead.find((group) => group.name === "Seals");
    expect(seals?.bytes).toBe((await sizeOf("change_seals")) + (await sizeOf("seal_checkpoints")));
    const [database] = await servers.storeQuery<{ n: string }>(
      "select pg_database_size(current_database())::text as n",
    );
    expect(report.database.bytes).toBe(Number(database?.n));
    expect(report.retention).toEqual({
      rules: [],
      total: expect.objectContaining({ now: { partitions: 0, bytes: 0, rows: 0 } }),
    });
  });
});

describe("PUT /api/retention", () => {
  const rules = [
    { environment: "test", table: null, days: 7, archive: true },
    { environment: "test", table: "public.notes", days: 90, archive: false },
    { environment: "staging", table: null, days: null, archive: false },
  ];

  it("refuses bad rules with a 400 naming the field, changing nothing", async () => {
    const cases: [unknown, string][] = [
      [{}, "rules"],
      [{ rules: [{ environment: "test", table: null, days: 0 }] }, "rules.0.days"],
      [{ rules: [{ environment: "test", table: null, days: 36_501 }] }, "rules.0.days"],
      [{ rules: [{ environment: "test", table: "notes", days: 7 }] }, "rules.0.table"],
      [{ rules: [{ environment: "Test Env", table: null, days: 7 }] }, "rules.0.environment"],
      [{ rules: [rules[0], { ...rules[0], days: 30 }] }, "rules.1.environment"],
      [{ rules: [{ environment: "test", table: null, days: null, archive: true }] }, "rules.0.archive"],
      [{ rules, extra: true }, "extra"],
    ];
    for (const [body, path] of cases) {
      const answer = await call("/api/retention", "PUT", "admin", body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      const details = (answer.body as { error: { details: { path: string }[] } }).error.details;
      expect(
        details.map((d) => d.path),
        JSON.stringify(body),
      ).toContain(path);
    }
    expect((await call("/api/retention", "GET", "viewer")).body).toMatchObject({ rules: [] });
  });

  it("is for admins: a viewer and a read-only token get 403", async () => {
    for (const caller of ["viewer", "readOnlyToken"] as const) {
      expect((await call("/api/retention", "PUT", caller, { rules })).status).toBe(403);
    }
    expect((await call("/api/retention", "GET", "viewer")).body).toMatchObject({ rules: [] });
  });

  it("replaces every rule at once, audited with the rules before and after", async () => {
    const saved = await call("/api/retention", "PUT", "admin", { rules });
    expect(saved.status).toBe(200);
    const read = await call("/api/retention", "GET", "readOnlyToken");
    expect(read.body).toMatchObject({ environments: ["staging", "test"] });
    expect((read.body as { rules: unknown[] }).rules).toEqual([
      { environment: "staging", table: null, days: null, archive: false },
      { environment: "test", table: null, days: 7, archive: true },
      { environment: "test", table: "public.notes", days: 90, archive: false },
    ]);

    const next = [{ environment: "test", table: null, days: 30, archive: false }];
    expect((await call("/api/retention", "PUT", "admin", { rules: next })).status).toBe(200);
    const stored = await servers.storeQuery(
      `select environment, "table", days, archive, updated_by like 'admin-%' as by_admin from retention_rules`,
    );
    expect(stored).toEqual([{ environment: "test", table: "", days: 30, archive: false, by_admin: true }]);
    const audit = await servers.storeQuery<{ actor_label: string; details: { before: unknown[]; after: unknown[] } }>(
      "select actor_label, details from audit_events where action = 'retention.update' order by id",
    );
    expect(audit).toHaveLength(2);
    expect(audit[1]?.actor_label).toMatch(/^admin-/);
    expect(audit[1]?.details.before).toHaveLength(3);
    expect(audit[1]?.details.after).toEqual(next);
  });
});

describe("what retention frees", () => {
  it("previews unsaved rules: the partition past them, exactly its size", async () => {
    const preview = await call("/api/retention/preview", "POST", "viewer", {
      rules: [{ environment: "test", table: null, days: 7, archive: false }],
    });
    expect(preview.status).toBe(200);
    const forecast = preview.body as import("../lib/retention/api-types").RetentionForecastJson;
    const old = { partitions: 1, bytes: await sizeOf("changes_test_old"), rows: OLD_ROWS };
    expect(forecast.total.now).toEqual(old);
    expect(forecast.rules[0]?.now).toEqual(old);
    // Within 7 and 30 days: the test database's partitions that end within 0 and 23 days, as the catalog has them.
    for (const [span, ahead] of [
      ["within7Days", 0],
      ["within30Days", 23],
    ] as const) {
      const [expected] = await servers.storeQuery<{ partitions: number; bytes: string; rows: number }>(
        `select count(*)::int as partitions, coalesce(sum(pg_total_relation_size(name::regclass)), 0)::text as bytes,
                coalesce(sum((select count(*) from changes c where c.tableoid = p.name::regclass)), 0)::int as rows
           from trail_partitions p where source_id = $1 and to_at <= now() - interval '7 days' + $2 * interval '1 day'`,
        [shopId, ahead],
      );
      expect(forecast.total[span], span).toEqual({ ...expected, bytes: Number(expected?.bytes) });
    }
    // Nothing was saved by the preview.
    expect(await servers.storeQuery(`select days from retention_rules`)).toEqual([{ days: 30 }]);
  });

  it("shows the saved rules' forecast on the storage report", async () => {
    const report = (await call("/api/storage", "GET", "viewer"))
      .body as unknown as import("../lib/retention/api-types").StorageJson;
    expect(report.retention.rules).toEqual([
      expect.objectContaining({
        environment: "test",
        table: null,
        days: 30,
        now: expect.objectContaining({ partitions: 1 }),
      }),
    ]);
  });
});
