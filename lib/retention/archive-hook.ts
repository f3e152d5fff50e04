import type pg from "pg";
import { archivePartition } from "../archive/write";
import { archiveLocation } from "../archive/where";
import { env } from "../env";

/** A trail_partitions row, as the expirer hands it to an archiver. */
export type TrailPartition = { name: string; sourceId: string; bucket: string; fromAt: Date; toAt: Date };

/** Writes a partition's changes somewhere lasting and returns where (the trail_expiries row records it). */
export type PartitionArchiver = (pool: pg.Pool, partition: TrailPartition, secret: string) => Promise<string>;

/**
 * An archiver writing lib/archive's archives into `where`, a directory or s3://bucket/prefix (one archive per
 * partition); returns where that archive is.
 */
export function locationArchiver(where: string): PartitionArchiver {
  const location = archiveLocation(where);
  return async (pool, partition, secret) => (await archivePartition(pool, partition, location, secret)).href;
}

/**
 * The archiver of this process: into RETRACE_ARCHIVE_DIR when it is set. Null otherwise: partitions whose rule asks
 * for an archive are then NOT dropped, the expirer waits for an archiver (lib/retention/expire.ts).
 */
export function defaultArchiver(): PartitionArchiver | null {
  const where = env.archive.RETRACE_ARCHIVE_DIR;
  return where ? locationArchiver(where) : null;
}
