import fs from "node:fs";
import os from "node:os";
import type pg from "pg";
import type { BenchServers } from "./servers";

/**
 * Disk room for the scale workload. The bench's servers keep their data under the temporary directory
 * (test/support/postgres.ts); what grows with the trail is the store's and the sources' databases, and each
 * server's WAL, which the bench's flags let grow to max_wal_size (8 GB) between checkpoints.
 */
export const DATA_DIR = os.tmpdir();
const GiB = 2 ** 30;
/** Both servers' WAL at most: 2 × max_wal_size (a soft limit: the next checkpoint recycles what is over it). */
const WAL_CEILING = 2 * 8 * GiB;
/** Left free for everything else on the machine. */
const RESERVE = 2 * GiB;
/**
 * Bytes a stored change costs before a step has measured it, in the store and at its three sources: `--scale 0.01`
 * measured ~520 and ~130 here (and its estimate for 500k from 100k was within 2% for the store, 8% for the
 * sources); rounded up. Later steps use what the earlier ones measured.
 */
export const GUESS_BYTES_PER_CHANGE = { store: 600, sources: 150 };

export type ServerBytes = { data: number; wal: number };
export type DiskUse = { store: ServerBytes; sources: ServerBytes };

export type DiskEstimate = {
  changes: number;
  /** Bytes per change the estimate grew the databases by, and whether the bench measured or guessed them. */
  perChange: { store: number; sources: number; measured: boolean };
  storeBytes: number;
  sourcesBytes: number;
  walBytes: number;
  /** More than is used now: the databases' growth and a tenth of it for error, and the WAL's. */
  neededBytes: number;
  freeBytes: number;
  fits: boolean;
};

async function serverBytes(pool: pg.Pool): Promise<ServerBytes> {
  const { rows } = await pool.query<{ data: string; wal: string }>(
    `select (select sum(pg_database_size(oid)) from pg_database)::text as data,
            (select coalesce(sum(size), 0) from pg_ls_waldir())::text as wal`,
  );
  return { data: Number(rows[0]?.data ?? 0), wal: Number(rows[0]?.wal ?? 0) };
}

export async function diskUse(servers: BenchServers): Promise<DiskUse> {
  const [store, sources] = await Promise.all([serverBytes(servers.storePool), serverBytes(servers.sourcePool)]);
  return { store, sources };
}

export function freeBytes(dir = DATA_DIR): number {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/**
 * What the servers will use at `target` changes: the databases grow by the bytes per change measured since `start`
 * (`written` changes ago; guessed when nothing was written yet), the WAL up to its ceiling.
 */
export function estimateDisk(start: DiskUse, now: DiskUse, written: number, target: number): DiskEstimate {
  const measured = written > 0 && now.store.data > start.store.data;
  const perChange = measured
    ? {
        store: (now.store.data - start.store.data) / written,
        sources: Math.max(0, now.sources.data - start.sources.data) / written,
        measured,
      }
    : { ...GUESS_BYTES_PER_CHANGE, measured };
  const more = Math.max(0, target - written);
  const storeBytes = now.store.data + perChange.store * more;
  const sourcesBytes = now.sources.data + perChange.sources * more;
  const walNow = now.store.wal + now.sources.wal;
  // The WAL holds at least what is written until a checkpoint recycles it; never more than its ceiling.
  const walBytes = Math.max(walNow, Math.min(WAL_CEILING, (perChange.store + perChange.sources) * more));
  const dataGrowth = storeBytes + sourcesBytes - (now.store.data + now.sources.data);
  const neededBytes = Math.round(dataGrowth * 1.1 + (walBytes - walNow));
  const free = freeBytes();
  return {
    changes: target,
    perChange: { ...perChange, store: Math.round(perChange.store), sources: Math.round(perChange.sources) },
    storeBytes: Math.round(storeBytes),
    sourcesBytes: Math.round(sourcesBytes),
    walBytes: Math.round(walBytes),
    neededBytes,
    freeBytes: free,
    fits: free >= neededBytes + RESERVE,
  };
}

export const gb = (bytes: number) => `${(bytes / GiB).toFixed(bytes < 10 * GiB ? 2 : 1)} GB`;

export function describeEstimate(e: DiskEstimate): string {
  const basis = e.perChange.measured ? "measured so far" : "guessed before any change was stored";
  return (
    `at ${e.changes.toLocaleString("en-US")} changes: store ~${gb(e.storeBytes)}, sources ~${gb(e.sourcesBytes)} ` +
    `(${e.perChange.store} + ${e.perChange.sources} bytes per change, ${basis}), WAL up to ${gb(e.walBytes)}; ` +
    `needs ~${gb(e.neededBytes)} more, ${gb(e.freeBytes)} free on ${DATA_DIR}`
  );
}

export function refusal(e: DiskEstimate): string {
  return (
    `not enough disk for the scale workload: ${describeEstimate(e)} (and ${gb(RESERVE)} kept free). ` +
    `Free space on ${DATA_DIR} (or point TMPDIR at a larger disk), or run a smaller --scale.`
  );
}
