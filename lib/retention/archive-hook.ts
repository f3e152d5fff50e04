import type pg from "pg";

/** A trail_partitions row, as the expirer hands it to an archiver. */
export type TrailPartition = { name: string; sourceId: string; bucket: string; fromAt: Date; toAt: Date };

/** Writes a partition's changes somewhere lasting and returns where (the trail_expiries row records it). */
export type PartitionArchiver = (pool: pg.Pool, partition: TrailPartition) => Promise<string>;

// HOOK (issue 16, archives): lib/archive's archivePartition(db, partition, target) is built on another branch. Until
// it is wired in here (an archiver made from it and the configured target), partitions whose rule asks for an
// archive are NOT dropped: the expirer waits for an archiver (lib/retention/expire.ts).
export const defaultArchiver: PartitionArchiver | null = null;
