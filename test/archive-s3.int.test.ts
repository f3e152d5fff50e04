/**
 * Archives in an S3-compatible bucket, against a real S3 API server (s3rver) and real PostgreSQL servers: the
 * expirer archives a partition to the bucket and only then drops it; `archive import` from the bucket gives back the
 * same rows byte for byte; an object tampered with in the bucket is refused by verify and import; a missing bucket,
 * refused credentials or an unreachable endpoint keep the partition and say why; an archive whose manifest never
 * landed is not taken for one.
 */
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import { once } from "node:events";
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GzipFileWriter, readGzipLines } from "@/lib/archive/files";
import { ArchiveStorageError, BucketLocation } from "@/lib/archive/s3";
import { archivePartition } from "@/lib/archive/write";
import type { PartitionArchiver } from "@/lib/retention/archive-hook";
import { expirePartitions } from "@/lib/retention/expire";
import { verifyDatabases } from "@/lib/seals/databases";
import type { Worker } from "@/worker/worker";
import { startS3Server, type S3TestServer } from "./support/s3";
import { startTcpProxy } from "./support/tcp-proxy";
import { freePort } from "./support/postgres";
import { addSource, SECRET, startServers, type Servers } from "./support/servers";
import { waitFor } from "./support/wait";
import { startTestWorker } from "./support/worker";

const root = path.resolve(import.meta.dirname, "..");
const BUCKET = "retrace-archives";
const COUNT = 1_204;

let servers: Servers;
let s3: S3TestServer;
let client: S3Client;
let worker: Worker;
let sourceId: string;
let pool: pg.Pool;
let from: Date;
let to: Date;

/** The `retrace` command, run without blocking: the S3 server answers from this process's event loop. */
async function retrace(args: string[], extra: Record<string, string> = {}) {
  const child = spawn(process.execPath, [path.join(root, "bin/retrace.mjs"), ...args], {
    cwd: root,
    env: {
      ...process.env,
      ...s3.env,
      DATABASE_URL: servers.storeUrl,
      RETRACE_SECRET: SECRET,
      LOG_LEVEL: "warn",
      ...extra,
    },
    timeout: 90_000,
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const [status] = (await once(child, "close")) as [number | null];
  return { status, stdout, stderr };
}

/** Every stored change, every column, as PostgreSQL prints the row. */
async function trailText(): Promise<string[]> {
  const rows = await servers.storeQuery<{ c: string }>("select c::text as c from changes c order by id");
  return rows.map((row) => row.c);
}

async function keys(prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (page.Contents ?? []).map((object) => object.Key ?? "").sort();
}

async function object(key: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await (got.Body?.transformToByteArray() ?? new Uint8Array()));
}

/** Copies every object of one archive prefix to another, the data file's lines going through `edit`. */
async function tamperedCopy(fromPrefix: string, toPrefix: string, edit: (lines: string[]) => string[]) {
  for (const file of ["manifest.json", "seals.ndjson.gz", "changes.ndjson.gz"]) {
    let body = await object(`${fromPrefix}/${file}`);
    if (file === "changes.ndjson.gz") {
      const lines = zlib.gunzipSync(body).toString("utf8").trimEnd().split("\n");
      body = zlib.gzipSync(`${edit(lines).join("\n")}\n`);
    }
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${toPrefix}/${file}`, Body: body }));
  }
}

/** The parts of multipart uploads in progress that s3rver holds on disk. */
function partsOnDisk(): number {
  const entries = fs.readdirSync(s3.directory, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile() && /uploads/.test(entry.parentPath) && /^\d+$/.test(entry.name))
    .length;
}

/** Runs `run` with `extra` in this process's environment (lib/env.ts reads archive settings at each use). */
async function withEnv<T>(extra: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = new Map(Object.keys(extra).map((name) => [name, process.env[name]]));
  Object.assign(process.env, extra);
  try {
    return await run();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** Runs the expirer with the worker's environment plus `extra`, its clock 100 days ahead. */
async function expireWith(extra: Record<string, string>, archiver?: PartitionArchiver) {
  return withEnv(extra, () =>
    expirePartitions(pool, SECRET, { now: new Date(Date.now() + 100 * 86_400_000), archiver }),
  );
}

beforeAll(async () => {
  s3 = await startS3Server([BUCKET]);
  client = new S3Client({
    endpoint: s3.endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: s3.env.AWS_ACCESS_KEY_ID ?? "", secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY ?? "" },
  });
  servers = await startServers();
  await servers.sourceQuery(`
    create table items (id int primary key, name text, doc jsonb, tags text[], price numeric, at timestamptz);
    alter table items replica identity full;
    create publication retrace_pub for table items;`);
  await servers.sourceQuery("select pg_create_logical_replication_slot('retrace_s3', 'pgoutput')");
  sourceId = await addSource(servers, { slotName: "retrace_s3", publicationName: "retrace_pub" });
  worker = startTestWorker(servers, { sealIntervalMs: 100, partitionIntervalMs: 3_600_000 });
  pool = new pg.Pool({ connectionString: servers.storeUrl, max: 3 });
  pool.on("error", () => undefined);

  from = new Date(Date.now() - 1_000);
  await servers.sourceQuery(`begin;
    select pg_logical_emit_message(true, '_retrace', '{"user":"ann","user_id":42}');
    insert into items values (1, 'Zoë "quoted" \\ back', '{"n": 1.50, "big": 123456789012345678901234567890}',
                              '{x,NULL,"y z"}', 12345678901234567890.000001, '2026-01-02 03:04:05.123456+00');
    commit;`);
  await servers.sourceQuery("update items set name = E'line\\nbreak', price = 2.5 where id = 1");
  await servers.sourceQuery(
    "insert into items select g, 'bulk ' || g, jsonb_build_object('g', g), null, g / 7.0, now() " +
      "from generate_series(10, 1209) g",
  );
  await servers.sourceQuery("delete from items where id = 10");
  await servers.sourceQuery("truncate items");
  await waitFor("every change stored and sealed", async () => {
    const [row] = await servers.storeQuery<{ changes: number; sealed: number }>(
      `select (select count(*)::int from changes where source_id = $1) as changes,
              (select count(*)::int from change_seals where source_id = $1) as sealed`,
      [sourceId],
    );
    return row?.changes === COUNT && row.sealed === COUNT;
  });
  to = new Date(Date.now() + 1_000);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await pool?.end();
  client?.destroy();
  await servers?.stop();
  await s3?.stop();
});

describe("archives in an S3-compatible bucket", () => {
  it("exports to a bucket prefix the same files as a directory, and verifies them there", async () => {
    const exported = await retrace([
      "archive",
      "export",
      "--database",
      "app",
      "--from",
      from.toISOString(),
      "--to",
      to.toISOString(),
      "--dir",
      `s3://${BUCKET}/manual/app`,
    ]);
    expect(exported.stderr).toBe("");
    expect(exported.status).toBe(0);
    expect(exported.stdout).toContain(`Archived ${COUNT} changes of app`);
    expect(await keys("manual/")).toEqual([
      "manual/app/changes.ndjson.gz",
      "manual/app/manifest.json",
      "manual/app/seals.ndjson.gz",
    ]);
    const manifest = JSON.parse((await object("manual/app/manifest.json")).toString("utf8"));
    const data = await object("manual/app/changes.ndjson.gz");
    expect(manifest).toMatchObject({
      count: COUNT,
      data: { sha256: crypto.createHash("sha256").update(data).digest("hex"), bytes: data.length },
    });

    const verified = await retrace(["archive", "verify", `s3://${BUCKET}/manual`]);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toContain(`OK s3://${BUCKET}/manual/app/manifest.json: ${COUNT} changes of app`);
    expect((await retrace(["archive", "verify", `s3://${BUCKET}/manual/app/manifest.json`])).status).toBe(0);

    const again = await retrace([
      "archive",
      "export",
      "--database",
      "app",
      "--from",
      from.toISOString(),
      "--to",
      to.toISOString(),
      "--dir",
      `s3://${BUCKET}/manual/app`,
    ]);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("already holds this archive");
  });

  it("refuses an object tampered with in the bucket, and an archive whose manifest never landed", async () => {
    const ids = (await servers.storeQuery<{ id: string }>("select id::text from changes order by commit_lsn, seq")).map(
      (row) => row.id,
    );
    await tamperedCopy("manual/app", "tampered/altered", (lines) =>
      lines.map((line, i) => (i === 1 ? line.replace("line\\\\nbreak", "line\\\\nbreaK") : line)),
    );
    await tamperedCopy("manual/app", "tampered/removed", (lines) => lines.filter((_, i) => i !== 5));
    const altered = await retrace(["archive", "verify", `s3://${BUCKET}/tampered/altered`]);
    expect(altered.status).toBe(1);
    expect(altered.stdout).toContain(`altered: Change ${ids[1]} (items, key 1) differs from what was sealed`);
    const removed = await retrace(["archive", "verify", `s3://${BUCKET}/tampered/removed`]);
    expect(removed.status).toBe(1);
    expect(removed.stdout).toContain(`removed: Change ${ids[5]} (items, key `);

    const before = await trailText();
    await servers.storeQuery("delete from changes where source_id = $1", [sourceId]);
    const imported = await retrace(["archive", "import", `s3://${BUCKET}/tampered`]);
    expect(imported.status).toBe(1);
    expect(imported.stdout.match(/REFUSED s3:\/\/[^:]+: The archive .* does not verify/g)).toHaveLength(2);
    expect(await trailText()).toEqual([]);

    // An interrupted write: the data files landed, the manifest (written last) did not. Not an archive.
    for (const file of ["changes.ndjson.gz", "seals.ndjson.gz"]) {
      const body = await object(`manual/app/${file}`);
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `half/app/${file}`, Body: body }));
    }
    const half = await retrace(["archive", "import", `s3://${BUCKET}/half`]);
    expect(half.status).toBe(1);
    expect(half.stderr).toContain(`An archive (manifest.json) under s3://${BUCKET}/half not found`);
    expect(await trailText()).toEqual([]);

    // The whole archive brings the trail back byte for byte.
    const whole = await retrace(["archive", "import", `s3://${BUCKET}/manual/app`]);
    expect(whole.status).toBe(0);
    expect(whole.stdout).toContain(`${COUNT} of ${COUNT} changes stored`);
    expect(await trailText()).toEqual(before);
    // Held from expiry (lib/holds), named by its bucket location; released here for the expiry tests below.
    const holds = await servers.storeQuery<{ reason: string }>("select reason from trail_holds");
    expect(holds).toEqual([{ reason: `imported from s3://${BUCKET}/manual/app/manifest.json` }]);
    await servers.storeQuery("update trail_holds set released_at = now(), released_by = 'test'");
  });

  it("keeps the partition and says why when the bucket is missing, refuses access or cannot be reached", async () => {
    const before = await trailText();
    expect(before).toHaveLength(COUNT);
    const [held] = await servers.storeQuery<{ partition: string }>(
      "select distinct tableoid::regclass::text as partition from changes",
    );
    const partition = held?.partition ?? "";
    expect(partition).toMatch(/^changes_/);
    expect(partition).not.toBe("changes_default");
    await servers.storeQuery(
      `insert into retention_rules (environment, "table", days, archive) values ('test', '', 1, true)`,
    );
    const closedPort = await freePort();
    const cases: [Record<string, string>, RegExp][] = [
      [
        { ...s3.env, RETRACE_ARCHIVE_DIR: "s3://no-such-bucket/archives" },
        /The bucket "no-such-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+/,
      ],
      [
        { ...s3.env, AWS_ACCESS_KEY_ID: "NOT-A-KEY", RETRACE_ARCHIVE_DIR: `s3://${BUCKET}/expired` },
        /Access to the bucket "retrace-archives" at .* was denied \(InvalidAccessKeyId/,
      ],
      [
        {
          ...s3.env,
          RETRACE_ARCHIVE_S3_ENDPOINT: `http://127.0.0.1:${closedPort}`,
          RETRACE_ARCHIVE_S3_MAX_ATTEMPTS: "1",
          RETRACE_ARCHIVE_DIR: `s3://${BUCKET}/expired`,
        },
        new RegExp(`The archive endpoint http://127\\.0\\.0\\.1:${closedPort} cannot be reached \\(ECONNREFUSED`),
      ],
    ];
    try {
      for (const [extra, why] of cases) {
        const result = await expireWith(extra);
        expect(result.dropped).toEqual([]);
        const waiting = result.waiting.find((entry) => entry.name === partition);
        expect(waiting).toMatchObject({ why: "archive-failed" });
        expect(waiting && "error" in waiting ? waiting.error : "").toMatch(why);
        expect(await trailText()).toEqual(before);
      }
    } finally {
      await servers.storeQuery("delete from retention_rules");
    }
    expect(await keys("expired/")).toEqual([]);

    // The connection goes after the data files landed, before the manifest (written last) did.
    class ManifestLost extends BucketLocation {
      override child(name: string) {
        return new ManifestLost(`${this.href}/${name}`);
      }
      override async writeText(file: string): Promise<void> {
        throw new Error(`connection reset while writing ${file}`);
      }
    }
    await servers.storeQuery(
      `insert into retention_rules (environment, "table", days, archive) values ('test', '', 1, true)`,
    );
    const lost = await expireWith(s3.env, async (pool, partition, secret) => {
      const location = new ManifestLost(`s3://${BUCKET}/expired`);
      return (await archivePartition(pool, partition, location, secret)).href;
    }).finally(() => servers.storeQuery("delete from retention_rules"));
    expect(lost.dropped).toEqual([]);
    expect(lost.waiting).toContainEqual({
      name: partition,
      why: "archive-failed",
      error: "connection reset while writing manifest.json",
    });
    expect(await trailText()).toEqual(before);
    expect(await keys(`expired/${partition}/`)).toEqual([
      `expired/${partition}/changes.ndjson.gz`,
      `expired/${partition}/seals.ndjson.gz`,
    ]);
    const half = await retrace(["archive", "verify", `s3://${BUCKET}/expired`]);
    expect(half.status).toBe(1);
    expect(half.stderr).toContain("not found");
    expect(await servers.storeQuery("select * from trail_expiries")).toEqual([]);
  });

  it("archives a partition to the bucket, then drops it; importing it gives it back byte for byte", async () => {
    const before = await trailText();
    const [held] = await servers.storeQuery<{ partition: string }>(
      "select distinct tableoid::regclass::text as partition from changes",
    );
    const partition = held?.partition ?? "";
    await servers.storeQuery(
      `insert into retention_rules (environment, "table", days, archive) values ('test', '', 1, true)`,
    );
    const expired = await expireWith({ ...s3.env, RETRACE_ARCHIVE_DIR: `s3://${BUCKET}/expired/` }).finally(() =>
      servers.storeQuery("delete from retention_rules"),
    );
    expect(expired.dropped).toContain(partition);
    expect(await trailText()).toEqual([]);
    const [expiry] = await servers.storeQuery<{ changes: number; archive_location: string }>(
      "select changes::int, archive_location from trail_expiries where partition = $1",
      [partition],
    );
    expect(expiry).toEqual({ changes: COUNT, archive_location: `s3://${BUCKET}/expired/${partition}` });
    expect(await keys(`expired/${partition}/`)).toEqual(
      ["changes.ndjson.gz", "manifest.json", "seals.ndjson.gz"].map((file) => `expired/${partition}/${file}`),
    );
    const [afterExpiry] = await verifyDatabases(pool, SECRET, { database: sourceId });
    expect(afterExpiry).toMatchObject({ ok: true, expired: COUNT });

    const run = await retrace(["archive", "import", `s3://${BUCKET}/expired`]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(
      `Imported s3://${BUCKET}/expired/${partition}/manifest.json: ${COUNT} of ${COUNT} changes stored`,
    );
    expect(await trailText()).toEqual(before);
    const [again] = await verifyDatabases(pool, SECRET, { database: sourceId });
    expect(again).toMatchObject({ ok: true, verified: COUNT, unsealed: 0 });
    expect((await retrace(["archive", "import", `s3://${BUCKET}/expired`])).stdout).toContain(
      `0 of ${COUNT} changes stored`,
    );
  });

  it("streams a large file to the bucket in parts, and an abandoned one never appears", () =>
    withEnv(s3.env, async () => {
      const location = new BucketLocation(`s3://${BUCKET}/streamed`);
      const writer = new GzipFileWriter("big.ndjson.gz", location.create("big.ndjson.gz"));
      const source = crypto.createHash("sha256");
      // Random text barely compresses: about 30 MiB of gzip, four parts of 8 MiB.
      for (let i = 0; i < 40 * 16; i++) {
        const line = `${crypto.randomBytes(48 * 1024).toString("base64")}\n`;
        source.update(line);
        await writer.write(line);
      }
      // Before the end: parts are already in the bucket (the writer waited for them), not all held in memory.
      expect(partsOnDisk()).toBeGreaterThanOrEqual(2);
      const written = await writer.commit();
      expect(partsOnDisk()).toBe(0);
      expect(written.bytes).toBeGreaterThan(3 * 8 * 1024 * 1024);
      const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: "streamed/big.ndjson.gz" }));
      expect(head.ContentLength).toBe(written.bytes);
      const read = readGzipLines("big.ndjson.gz", () => location.read("big.ndjson.gz"));
      const back = crypto.createHash("sha256");
      for await (const line of read.lines) back.update(`${line}\n`);
      expect(back.digest("hex")).toBe(source.digest("hex"));
      expect(read.digest()).toEqual({ sha256: written.sha256, bytes: written.bytes });

      const abandoned = new GzipFileWriter("gone.ndjson.gz", location.create("gone.ndjson.gz"));
      for (let i = 0; i < 16 * 12; i++) await abandoned.write(`${crypto.randomBytes(48 * 1024).toString("base64")}\n`);
      await abandoned.abandon();
      expect(await keys("streamed/")).toEqual(["streamed/big.ndjson.gz"]);
    }));

  it("gives up a write whose connection is cut halfway, saying why, and leaves no object", async () => {
    const proxy = await startTcpProxy({ host: "127.0.0.1", port: Number(new URL(s3.endpoint).port) });
    const endpoint = `http://127.0.0.1:${proxy.port}`;
    try {
      await withEnv(
        { ...s3.env, RETRACE_ARCHIVE_S3_ENDPOINT: endpoint, RETRACE_ARCHIVE_S3_MAX_ATTEMPTS: "1" },
        async () => {
          const location = new BucketLocation(`s3://${BUCKET}/cut`);
          const writer = new GzipFileWriter("cut.ndjson.gz", location.create("cut.ndjson.gz"));
          let failure: unknown = null;
          try {
            for (let i = 0; i < 16 * 40; i++) {
              if (i === 16 * 20) proxy.cut("reset");
              await writer.write(`${crypto.randomBytes(48 * 1024).toString("base64")}\n`);
            }
            await writer.commit();
          } catch (error) {
            failure = error;
            await writer.abandon();
          }
          expect(failure).toBeInstanceOf(ArchiveStorageError);
          expect((failure as Error).message).toContain(`The archive endpoint ${endpoint} cannot be reached`);
        },
      );
    } finally {
      proxy.restore();
      await proxy.close();
    }
    expect(await keys("cut/")).toEqual([]);
  });
});
