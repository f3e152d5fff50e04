/**
 * Archives against a real store and the real worker: a range of captured changes archived (gzip NDJSON, seals,
 * signed manifest), removed from the trail, imported back byte for byte and listed again; importing twice adds
 * nothing; a tampered archive is refused by import and its first bad change named by verify.
 */
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { archivePartition } from "@/lib/archive/write";
import { expirePartitions } from "@/lib/retention/expire";
import { createApiToken } from "@/lib/auth/tokens";
import { summarizeStoredRows } from "@/lib/changes/segments";
import { changesOutsideContexts, resumRollups, rollupsOffSegments } from "./support/browse-reference";
import { connectStore, type Store } from "@/lib/db/client";
import { verifyDatabases } from "@/lib/seals/databases";
import type { Worker } from "@/worker/worker";
import { addSource, SECRET, startServers, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";

const root = path.resolve(import.meta.dirname, "..");
type Route = (request: Request, context: { params: Promise<Record<string, string>> }) => Promise<Response>;

let servers: Servers;
let worker: Worker;
let sourceId: string;
let pool: pg.Pool;
let store: Store;
let token: string;
let listRoute: Route;
let from: Date;
let to: Date;
let work: string;
let archiveDir: string;

function retrace(args: string[]) {
  const result = spawnSync(process.execPath, [path.join(root, "bin/retrace.mjs"), ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: servers.storeUrl, RETRACE_SECRET: SECRET, LOG_LEVEL: "warn" },
    encoding: "utf8",
    timeout: 90_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every stored change, every column, as PostgreSQL prints the row. */
async function trailText(): Promise<string[]> {
  const rows = await servers.storeQuery<{ c: string }>("select c::text as c from changes c order by id");
  return rows.map((row) => row.c);
}

async function rangeIds(): Promise<string[]> {
  const rows = await servers.storeQuery<{ id: string }>(
    `select id::text from changes where source_id = $1 and committed_at >= $2 and committed_at < $3
      order by commit_lsn, seq`,
    [sourceId, from, to],
  );
  return rows.map((row) => row.id);
}

/** The ids the change list API shows, every page. */
async function listedIds(): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const request = new Request(`http://localhost/api/changes?limit=50${cursor ? `&cursor=${cursor}` : ""}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const response = await listRoute(request, { params: Promise.resolve({}) });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { changes: { id: string }[]; nextCursor: string | null };
    ids.push(...body.changes.map((change) => change.id));
    cursor = body.nextCursor;
    if (cursor === null) return ids;
  }
  throw new Error("too many pages");
}

/** Per table, the counts the change summary holds. */
async function summaryCounts() {
  return servers.storeQuery(
    `select schema, "table", sum(creates)::int as creates, sum(updates)::int as updates, sum(deletes)::int as deletes,
            sum(truncates)::int as truncates from change_segments where source_id = $1 group by 1, 2 order by 1, 2`,
    [sourceId],
  );
}

/** Takes the range out of the trail the way an expiry does: its rows go, the summary keeps only the rest. */
async function removeRange(): Promise<void> {
  await servers.storeQuery("delete from changes where source_id = $1 and committed_at >= $2 and committed_at < $3", [
    sourceId,
    from,
    to,
  ]);
  await servers.storeQuery("delete from change_segments where source_id = $1", [sourceId]);
  await servers.storeQuery("delete from change_rollups where source_id = $1", [sourceId]);
  await servers.storeQuery("delete from change_contexts where source_id = $1", [sourceId]);
  await servers.storeQuery("delete from trail_tables where source_id = $1", [sourceId]);
  await summarizeStoredRows(pool, "0", "9223372036854775807");
}

/** A copy of the archive whose data lines went through `edit`, recompressed. */
function tamperedCopy(name: string, edit: (lines: string[]) => string[]): string {
  const dir = path.join(work, name);
  fs.cpSync(archiveDir, dir, { recursive: true });
  const file = path.join(dir, "changes.ndjson.gz");
  const lines = zlib.gunzipSync(fs.readFileSync(file)).toString("utf8").trimEnd().split("\n");
  fs.writeFileSync(file, zlib.gzipSync(`${edit(lines).join("\n")}\n`));
  return dir;
}

async function source(sql: string) {
  await servers.sourceQuery(sql);
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-archive-"));
  archiveDir = path.join(work, "manual");
  servers = await startServers();
  await source(`
    create table items (id int primary key, name text, doc jsonb, tags text[], price numeric, at timestamptz);
    create table notes (id int primary key, body text);
    alter table items replica identity full;
    alter table notes replica identity full;
    create publication retrace_pub for table items, notes;`);
  await servers.sourceQuery("select pg_create_logical_replication_slot('retrace_archive', 'pgoutput')");
  sourceId = await addSource(servers, { slotName: "retrace_archive", publicationName: "retrace_pub" });
  // One round of the partition keeper, at start: the test runs the expirer itself, with its clock ahead.
  worker = startTestWorker(servers, { sealIntervalMs: 100, partitionIntervalMs: 3_600_000 });
  pool = new pg.Pool({ connectionString: servers.storeUrl, max: 3 });
  pool.on("error", () => undefined);
  process.env.DATABASE_URL = servers.storeUrl;
  process.env.RETRACE_SECRET = SECRET;
  store = connectStore(servers.storeUrl, { max: 2 });
  token = (await createApiToken(store.db, "archive")).token;
  listRoute = (await import("@/app/api/changes/route")).GET as Route;

  // Before the range.
  await source(
    `insert into items values (1, 'first', '{"n": 1}', '{a}', 1.10, now()); insert into notes values (1, 'x')`,
  );
  await sleep(1_100);
  from = new Date();
  // The range: every kind of value and operation, a context, a TRUNCATE.
  await source(`begin;
    select pg_logical_emit_message(true, '_retrace', '{"user":"ann","user_id":42}');
    insert into items values (2, 'Zoë "quoted" \\ back',
                              '{"n": 1.50, "big": 123456789012345678901234567890, "a": [1, null]}', '{x,NULL,"y z"}',
                              12345678901234567890.000001, '2026-01-02 03:04:05.123456+00');
    insert into notes values (2, E'line\\nbreak');
    commit;`);
  await source("update items set name = 'renamed', price = 2.5 where id = 1");
  await source("update items set doc = '{\"n\": 2}' where id = 2");
  await source("delete from notes where id = 1");
  await source("insert into notes select g, 'bulk ' || g from generate_series(10, 1300) g");
  await source("truncate notes");
  await sleep(50);
  to = new Date();
  await sleep(1_100);
  // After the range.
  await source("insert into items values (3, 'after', null, null, null, null)");
  await waitFor("every change stored and sealed", async () => {
    const [row] = await servers.storeQuery<{ changes: number; sealed: number }>(
      `select (select count(*)::int from changes where source_id = $1) as changes,
              (select count(*)::int from change_seals where source_id = $1) as sealed`,
      [sourceId],
    );
    return row?.changes === 1300 && row.sealed === 1300;
  });
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await pool?.end();
  await store?.pool.end();
  const { getStore } = await import("@/lib/db");
  await getStore()
    .pool.end()
    .catch(() => undefined);
  await servers?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("archives", () => {
  it("exports a range as gzip NDJSON with its seals and a signed manifest", async () => {
    const ids = await rangeIds();
    expect(ids.length).toBe(1297);
    const run = retrace([
      "archive",
      "export",
      "--database",
      "app",
      "--from",
      from.toISOString(),
      "--to",
      to.toISOString(),
      "--dir",
      archiveDir,
    ]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("Archived 1297 changes of app");
    expect(fs.readdirSync(archiveDir).sort()).toEqual(["changes.ndjson.gz", "manifest.json", "seals.ndjson.gz"]);
    // The trail outside the store: its owner's only.
    expect((fs.statSync(archiveDir).mode & 0o777).toString(8)).toBe("700");
    for (const name of fs.readdirSync(archiveDir)) {
      expect((fs.statSync(path.join(archiveDir, name)).mode & 0o777).toString(8), name).toBe("600");
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(archiveDir, "manifest.json"), "utf8"));
    const data = fs.readFileSync(path.join(archiveDir, "changes.ndjson.gz"));
    expect(manifest).toMatchObject({
      format: 1,
      source: { id: sourceId, name: "app", environment: "test", database: "app" },
      count: 1297,
      minId: ids.reduce((a, b) => (BigInt(a) < BigInt(b) ? a : b)),
      maxId: ids.reduce((a, b) => (BigInt(a) > BigInt(b) ? a : b)),
      data: {
        file: "changes.ndjson.gz",
        sha256: crypto.createHash("sha256").update(data).digest("hex"),
        bytes: data.length,
      },
    });
    expect(manifest.chain.end.position).toMatch(/^\d+$/);
    // One line per change, in commit order, every column as the store prints it.
    const lines = zlib
      .gunzipSync(data)
      .toString("utf8")
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => line.id)).toEqual(ids);
    const [stored] = await servers.storeQuery<{ after: string; committed_at: string; changed_fields: string[] }>(
      `select after::text, to_char(committed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as committed_at
         from changes where id = $1`,
      [ids[0]],
    );
    expect(lines[0]).toMatchObject({
      after: stored?.after,
      committed_at: stored?.committed_at,
      context: '{"user": "ann", "user_id": 42}',
    });
    expect(lines[0].after).toContain("123456789012345678901234567890");
    expect(lines.find((line) => line.operation === "UPDATE")?.changed_fields).toEqual(["name", "price"]);

    // Archiving the same changes again leaves the archive as it is.
    const again = await archivePartition(
      pool,
      { name: "manual", sourceId, bucket: null, fromAt: from, toAt: to },
      work,
      SECRET,
    );
    expect(again.reused).toBe(true);
    expect(again.manifest.data.sha256).toBe(manifest.data.sha256);
  });

  it("verifies the archive on its own", () => {
    const run = retrace(["archive", "verify", archiveDir]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain("OK ");
    expect(run.stdout).toContain("1297 changes of app");
    expect(retrace(["archive", "verify", path.join(archiveDir, "manifest.json")]).status).toBe(0);
    const missing = retrace(["archive", "verify", path.join(work, "nowhere")]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("not found");
    const usage = retrace([
      "archive",
      "export",
      "--database",
      "app",
      "--from",
      "yesterday",
      "--to",
      "now",
      "--dir",
      work,
    ]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("--from is not a time: yesterday");
  });

  it("brings the changes back byte for byte after they left the trail, listed again; twice adds nothing", async () => {
    const before = await trailText();
    const listedBefore = await listedIds();
    const summaryBefore = await summaryCounts();
    expect(listedBefore).toHaveLength(1300);
    const ids = await rangeIds();

    // The bulk insert's segment, as an expiry that keeps it (another bucket's changes in it) leaves it: counting
    // the changes that went. The import must count that segment again, not add to it.
    const [stale] = await servers.storeQuery(
      `select * from change_segments where source_id = $1 and "table" = 'notes' order by creates desc limit 1`,
      [sourceId],
    );
    await removeRange();
    await servers.storeQuery(
      `insert into change_segments select * from jsonb_populate_record(null::change_segments, $1::jsonb)
       on conflict (source_id, schema, "table", minute, block) do update set min_id = excluded.min_id,
         max_id = excluded.max_id, min_lsn = excluded.min_lsn, max_lsn = excluded.max_lsn, min_at = excluded.min_at,
         max_at = excluded.max_at, creates = excluded.creates, updates = excluded.updates, deletes = excluded.deletes,
         truncates = excluded.truncates, fields = excluded.fields`,
      [JSON.stringify(stale)],
    );
    // Their seals as an upgrade past migration 0026 leaves those of changes expired before it: no schema, operation.
    await servers.storeQuery(
      "update change_seals set schema = null, operation = null where source_id = $1 and change_id = any($2::bigint[])",
      [sourceId, ids],
    );
    // The rollups count what the segments count, the stale one's changes too (as after such an expiry).
    await resumRollups((text) => servers.storeQuery(text));
    expect(await summaryCounts()).not.toEqual(summaryBefore);
    expect(await trailText()).toHaveLength(1300 - 1297);
    expect(await listedIds()).toEqual(listedBefore.filter((id) => !ids.includes(id)));
    // Until the expiry marks what it dropped (trail-partitions), the store's seals miss the removed changes.
    const [gap] = await verifyDatabases(pool, SECRET, { database: sourceId });
    expect(gap).toMatchObject({ ok: false, problem: "removed" });

    // An import whose audit row the store refuses imports nothing: the changes and the row are one transaction.
    await servers.storeQuery(`create function refuse_audit() returns trigger language plpgsql as $$
                              begin raise exception 'audit_events refused by the test'; end $$`);
    await servers.storeQuery(
      "create trigger refuse_audits before insert on audit_events for each row execute function refuse_audit()",
    );
    try {
      expect(retrace(["archive", "import", archiveDir]).status).not.toBe(0);
    } finally {
      await servers.storeQuery("drop trigger refuse_audits on audit_events");
      await servers.storeQuery("drop function refuse_audit()");
    }
    expect(await trailText()).toHaveLength(1300 - 1297);

    const run = retrace(["archive", "import", archiveDir]);
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.status, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toContain("1297 of 1297 changes stored");
    expect(await trailText()).toEqual(before);
    // Their seals have what time travel's walk reads of them again.
    const [unlike] = await servers.storeQuery<{ n: number }>(
      `select count(*)::int as n from change_seals s join changes c on c.id = s.change_id
        where s.source_id = $1
          and (s.schema is distinct from c.schema or s.operation is distinct from c.operation::text)`,
      [sourceId],
    );
    expect(unlike?.n).toBe(0);
    expect(await listedIds()).toEqual(listedBefore);
    expect(await summaryCounts()).toEqual(summaryBefore);
    // The chart's rollups are the segments' sums again (the stale segment's minutes included); every change with a
    // context is where a context entry says.
    const query = (text: string) => servers.storeQuery(text);
    expect(await rollupsOffSegments(query)).toEqual([]);
    expect(await changesOutsideContexts(query)).toEqual([]);
    const [verified] = await verifyDatabases(pool, SECRET, { database: sourceId });
    expect(verified).toMatchObject({ ok: true, verified: 1300, unsealed: 0 });

    // Audited as done on the command line, by the OS user that ran it, against the archive's database.
    const imported = await servers.storeQuery(
      `select actor_kind, actor_id, actor_label, target_type, target_id, details from audit_events
        where action = 'archive.import' order by id`,
    );
    expect(imported).toEqual([
      {
        actor_kind: "cli",
        actor_id: null,
        actor_label: os.userInfo().username,
        target_type: "database",
        target_id: sourceId,
        details: {
          archive: path.join(archiveDir, "manifest.json"),
          from: expect.any(String),
          to: expect.any(String),
          count: 1297,
          inserted: 1297,
          hold: expect.any(String),
          recreated: false,
          resealed: false,
        },
      },
    ]);

    const twice = retrace(["archive", "import", work]);
    expect(twice.status).toBe(0);
    expect(twice.stdout).toContain("0 of 1297 changes stored (1297 were in the store already)");
    const audited = await servers.storeQuery<{ details: { inserted: number } }>(
      "select details from audit_events where action = 'archive.import' order by id",
    );
    expect(audited.map((row) => row.details.inserted)).toEqual([1297, 0]);
    expect(await trailText()).toEqual(before);
    expect(await summaryCounts()).toEqual(summaryBefore);
  });

  it("names an altered image and a removed line, and import refuses both", async () => {
    const ids = await rangeIds();
    const altered = tamperedCopy("altered", (lines) =>
      lines.map((line, i) => (i === 1 ? line.replace("line\\\\nbreak", "line\\\\nbreaK") : line)),
    );
    const removed = tamperedCopy("removed", (lines) => lines.filter((_, i) => i !== 5));
    const inserted = tamperedCopy("inserted", (lines) => lines.flatMap((line, i) => (i === 2 ? [line, line] : [line])));
    expect(fs.readFileSync(path.join(altered, "changes.ndjson.gz"))).not.toEqual(
      fs.readFileSync(path.join(archiveDir, "changes.ndjson.gz")),
    );

    const alteredRun = retrace(["archive", "verify", altered]);
    expect(alteredRun.status).toBe(1);
    expect(alteredRun.stdout).toContain(`altered: Change ${ids[1]} (notes, key 2) differs from what was sealed`);
    const removedRun = retrace(["archive", "verify", removed]);
    expect(removedRun.status).toBe(1);
    expect(removedRun.stdout).toContain(`removed: Change ${ids[5]} (notes, key `);

    const insertedRun = retrace(["archive", "verify", inserted]);
    expect(insertedRun.status).toBe(1);
    expect(insertedRun.stdout).toContain(`inserted: Change ${ids[2]} (items, key 1) is in the archive but not in its`);

    await removeRange();
    const left = await trailText();
    for (const dir of [altered, removed, inserted]) {
      const run = retrace(["archive", "import", dir]);
      expect(run.status).toBe(1);
      expect(run.stdout).toContain("REFUSED");
      expect(run.stdout).toContain("does not verify");
      expect(await trailText()).toEqual(left);
    }
    // A manifest edited by hand (its count) no longer verifies either.
    const edited = path.join(work, "edited");
    fs.cpSync(archiveDir, edited, { recursive: true });
    const manifestPath = path.join(edited, "manifest.json");
    fs.writeFileSync(manifestPath, fs.readFileSync(manifestPath, "utf8").replace('"count": 1297', '"count": 1296'));
    expect(retrace(["archive", "verify", edited]).status).toBe(1);
    expect(retrace(["archive", "import", edited]).status).toBe(1);
    expect(await trailText()).toEqual(left);

    expect(retrace(["archive", "import", archiveDir]).status).toBe(0);
    expect(await rangeIds()).toEqual(ids);
  });

  it("refuses to archive a trail that does not verify, and an import that clashes with the store", async () => {
    const [target] = await rangeIds();
    const [{ after } = { after: "" }] = await servers.storeQuery<{ after: string }>(
      "select after::text from changes where id = $1",
      [target],
    );
    await servers.storeQuery(`update changes set after = '{"id":2}' where id = $1`, [target]);
    const exported = retrace([
      "archive",
      "export",
      "--database",
      sourceId,
      "--from",
      from.toISOString(),
      "--to",
      to.toISOString(),
      "--dir",
      path.join(work, "bad"),
    ]);
    expect(exported.status).toBe(1);
    expect(exported.stderr).toContain(`Change ${target} (items, key 2) differs from its seal`);
    const run = retrace(["archive", "import", archiveDir]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain(`Change ${target} of the archive clashes`);
    await servers.storeQuery("update changes set after = $2::json where id = $1", [target, after]);
  });

  it("archives a partition the expirer drops, and brings it back from the archive directory", async () => {
    const before = await trailText();
    const listedBefore = await listedIds();
    const summaryBefore = await summaryCounts();
    const [held] = await servers.storeQuery<{ partition: string; n: number }>(
      "select tableoid::regclass::text as partition, count(*)::int as n from changes group by 1",
    );
    expect(held).toMatchObject({ n: 1300 });
    const partition = held?.partition ?? "";
    expect(partition).not.toBe("changes_default");

    // The imports above hold their range from expiry (lib/holds): released, the partition can go.
    await servers.storeQuery("update trail_holds set released_at = now(), released_by = 'test'");
    await servers.storeQuery(
      `insert into retention_rules (environment, "table", days, archive) values ('test', '', 1, true)`,
    );
    const archives = path.join(work, "expired");
    const now = new Date(Date.now() + 100 * 86_400_000);
    // Without an archive directory, a partition to archive is kept.
    const kept = await expirePartitions(pool, SECRET, { now });
    expect(kept.dropped).toEqual([]);
    expect(kept.waiting).toContainEqual({ name: partition, why: "no-archiver" });
    // The worker's archiver: RETRACE_ARCHIVE_DIR.
    process.env.RETRACE_ARCHIVE_DIR = archives;
    const expired = await expirePartitions(pool, SECRET, { now }).finally(() => {
      delete process.env.RETRACE_ARCHIVE_DIR;
    });
    await servers.storeQuery("delete from retention_rules");
    expect(expired.dropped).toContain(partition);
    expect(await trailText()).toEqual([]);
    expect(await listedIds()).toEqual([]);
    const [expiry] = await servers.storeQuery<{ changes: number; archive_location: string }>(
      "select changes::int, archive_location from trail_expiries where partition = $1",
      [partition],
    );
    expect(expiry).toEqual({ changes: 1300, archive_location: path.join(archives, partition) });
    // The seals know the dropped changes expired: the store still verifies.
    const [afterExpiry] = await verifyDatabases(pool, SECRET, { database: sourceId });
    expect(afterExpiry).toMatchObject({ ok: true, expired: 1300 });

    const verified = retrace(["archive", "verify", archives]);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toContain(`OK ${path.join(archives, partition, "manifest.json")}: 1300 changes of app`);

    const run = retrace(["archive", "import", archives]);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Imported ${path.join(archives, partition, "manifest.json")}: 1300 of 1300 changes`);
    expect(await trailText()).toEqual(before);
    expect(await listedIds()).toEqual(listedBefore);
    expect(await summaryCounts()).toEqual(summaryBefore);
    const [again] = await verifyDatabases(pool, SECRET, { database: sourceId });
    expect(again).toMatchObject({ ok: true, verified: 1300, unsealed: 0 });

    expect(retrace(["archive", "import", archives]).stdout).toContain("0 of 1300 changes stored");
    expect(await trailText()).toEqual(before);
  });
});
