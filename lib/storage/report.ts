import { forecastRetention, type PartitionSize, type RetentionForecast } from "../retention/forecast";
import type { RetentionRule } from "../retention/input";
import { OVERHEAD_GROUPS, type DayGroup, type StorageFacts } from "./read";

/**
 * GET /api/storage's answer, built from StorageFacts (pure). Bytes per partition are exact (the catalog's); a
 * source's, an environment's and the trail's are sums of them, plus a share of what sits outside the cataloged
 * partitions (the default partition), which is an estimate and said to be one. A table's bytes are always an
 * estimate: its changes in a partition × the partition's average bytes per change. So the tables add up to the trail
 * less its partitions made ahead and still empty (no table's yet), which an environment's and a source's bytes hold:
 * `ahead` says how much of theirs that is.
 */

export type Size = { bytes: number; rows: number };

/** Partitions made ahead with no changes yet: on disk, in `bytes`, but no table's. */
export type Ahead = { partitions: number; bytes: number };

export type StorageReport = {
  measuredAt: Date;
  /** The whole store database (pg_database_size). */
  database: { bytes: number };
  trail: Size & {
    partitions: number;
    /** Changes outside the cataloged partitions (in the default partition): kept until they are moved. */
    unpartitioned: Size;
    /** Partitions with no changes yet (made ahead by the worker): their pages count in `bytes`. */
    empty: { partitions: number; bytes: number };
  };
  environments: (Size & { name: string; estimated: boolean; ahead: Ahead })[];
  databases: (Size & {
    sourceId: string;
    name: string;
    database: string;
    environment: string;
    removed: boolean;
    estimated: boolean;
    ahead: Ahead;
  })[];
  /** Biggest first, at most TABLES_LIMIT. */
  tables: {
    sourceId: string;
    environment: string;
    database: string;
    table: string;
    rows: number;
    estimatedBytes: number;
  }[];
  /** The last GROWTH_DAYS UTC days, oldest first, each day present. */
  growth: { day: string; rows: number; bytes: number }[];
  /** What the stored rules free, per rule. */
  retention: RetentionForecast;
  /** The store's tables that are not the trail: seals, change summary, retention catalog, everything else. */
  overhead: { name: string; tables: string[]; bytes: number }[];
};

export const GROWTH_DAYS = 30;
export const TABLES_LIMIT = 500;
const DAY_MS = 86_400_000;

type Placed = DayGroup & { partition: PartitionSize | null };

/** The partition a day's changes of a table are in: the table's own bucket first, else its source's; null: none. */
function placer(partitions: readonly PartitionSize[]) {
  const byBucket = new Map<string, PartitionSize[]>();
  for (const partition of partitions) {
    const key = `${partition.sourceId}\u0000${partition.bucket}`;
    const list = byBucket.get(key) ?? [];
    list.push(partition);
    byBucket.set(key, list);
  }
  const find = (key: string, at: number) =>
    byBucket.get(key)?.find((p) => p.fromAt.getTime() <= at && at < p.toAt.getTime()) ?? null;
  return (group: DayGroup): PartitionSize | null => {
    const at = Date.parse(`${group.day}T00:00:00Z`);
    return find(`${group.sourceId}\u0000${group.table}`, at) ?? find(`${group.sourceId}\u0000`, at);
  };
}

function addTo<K>(map: Map<K, Size & { estimated: boolean }>, key: K, bytes: number, rows: number, estimated: boolean) {
  const entry = map.get(key) ?? { bytes: 0, rows: 0, estimated: false };
  entry.bytes += bytes;
  entry.rows += rows;
  entry.estimated ||= estimated && bytes > 0;
  map.set(key, entry);
}

export function buildStorageReport(facts: StorageFacts, rules: readonly RetentionRule[], now: Date): StorageReport {
  const sources = new Map(facts.sources.map((source) => [source.id, source]));
  const partitions: PartitionSize[] = facts.partitions.map((p) => ({
    ...p,
    environment: sources.get(p.sourceId)?.environment ?? null,
    rows: 0,
  }));
  const place = placer(partitions);
  const placed: Placed[] = facts.groups.map((group) => ({ ...group, partition: place(group) }));
  let outsideRows = 0;
  for (const group of placed) {
    if (group.partition) group.partition.rows += group.rows;
    else outsideRows += group.rows;
  }
  const outsideBytes = facts.leaves.filter((leaf) => !leaf.cataloged).reduce((sum, leaf) => sum + leaf.bytes, 0);
  const perChange = (partition: PartitionSize | null) =>
    partition
      ? partition.rows > 0
        ? partition.bytes / partition.rows
        : 0
      : outsideRows > 0
        ? outsideBytes / outsideRows
        : 0;

  // Sources: their partitions exactly, their changes outside partitions by share.
  const bySource = new Map<string, Size & { estimated: boolean }>();
  for (const partition of partitions) addTo(bySource, partition.sourceId, partition.bytes, 0, false);
  const tables = new Map<string, { sourceId: string; table: string; rows: number; estimatedBytes: number }>();
  const days = new Map<string, { rows: number; bytes: number }>();
  const firstDay = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS - (GROWTH_DAYS - 1) * DAY_MS);
  for (let i = 0; i < GROWTH_DAYS; i++) {
    days.set(new Date(firstDay.getTime() + i * DAY_MS).toISOString().slice(0, 10), { rows: 0, bytes: 0 });
  }
  for (const group of placed) {
    const bytes = group.rows * perChange(group.partition);
    addTo(bySource, group.sourceId, group.partition ? 0 : bytes, group.rows, !group.partition);
    const key = `${group.sourceId}\u0000${group.table}`;
    const table = tables.get(key) ?? { sourceId: group.sourceId, table: group.table, rows: 0, estimatedBytes: 0 };
    table.rows += group.rows;
    table.estimatedBytes += bytes;
    tables.set(key, table);
    const day = days.get(group.day);
    if (day) {
      day.rows += group.rows;
      day.bytes += bytes;
    }
  }
  // A partition with no changes yet (made ahead) still takes its pages: counted on its first day.
  for (const partition of partitions) {
    const day = partition.rows === 0 ? days.get(partition.fromAt.toISOString().slice(0, 10)) : undefined;
    if (day) day.bytes += partition.bytes;
  }

  const aheadOf = new Map<string, Ahead>();
  for (const partition of partitions.filter((p) => p.rows === 0)) {
    const ahead = aheadOf.get(partition.sourceId) ?? { partitions: 0, bytes: 0 };
    ahead.partitions++;
    ahead.bytes += partition.bytes;
    aheadOf.set(partition.sourceId, ahead);
  }
  const databases = [...bySource.entries()].map(([sourceId, size]) => {
    const source = sources.get(sourceId);
    return {
      sourceId,
      name: source?.name ?? "(removed database)",
      database: source?.database ?? "",
      environment: source?.environment ?? "",
      removed: source ? source.removed : true,
      bytes: Math.round(size.bytes),
      rows: size.rows,
      estimated: size.estimated,
      ahead: aheadOf.get(sourceId) ?? { partitions: 0, bytes: 0 },
    };
  });
  const byEnvironment = new Map<string, Size & { estimated: boolean }>();
  const environmentAhead = new Map<string, Ahead>();
  for (const database of databases) {
    if (!database.environment) continue;
    addTo(byEnvironment, database.environment, database.bytes, database.rows, database.estimated);
    const ahead = environmentAhead.get(database.environment) ?? { partitions: 0, bytes: 0 };
    environmentAhead.set(database.environment, {
      partitions: ahead.partitions + database.ahead.partitions,
      bytes: ahead.bytes + database.ahead.bytes,
    });
  }
  const partitionBytes = partitions.reduce((sum, p) => sum + p.bytes, 0);
  const trailRows = facts.groups.reduce((sum, group) => sum + group.rows, 0);
  const trailBytes = partitionBytes + outsideBytes;
  const overheadBytes = OVERHEAD_GROUPS.map((group) => ({
    name: group.name,
    tables: [...group.tables],
    bytes: group.tables.reduce((sum, name) => sum + (facts.overhead.find((o) => o.name === name)?.bytes ?? 0), 0),
  }));
  const named = overheadBytes.reduce((sum, group) => sum + group.bytes, 0);
  const bySize = <T extends { bytes: number }>(a: T, b: T) => b.bytes - a.bytes;
  return {
    measuredAt: now,
    database: { bytes: facts.databaseBytes },
    trail: {
      bytes: trailBytes,
      rows: trailRows,
      partitions: partitions.length,
      unpartitioned: { bytes: outsideBytes, rows: outsideRows },
      empty: {
        partitions: partitions.filter((p) => p.rows === 0).length,
        bytes: partitions.filter((p) => p.rows === 0).reduce((sum, p) => sum + p.bytes, 0),
      },
    },
    environments: [...byEnvironment.entries()]
      .map(([name, size]) => ({
        name,
        ...size,
        bytes: Math.round(size.bytes),
        ahead: environmentAhead.get(name) ?? { partitions: 0, bytes: 0 },
      }))
      .sort(bySize),
    databases: databases.sort(bySize),
    tables: [...tables.values()]
      .map((table) => {
        const source = sources.get(table.sourceId);
        return {
          ...table,
          environment: source?.environment ?? "",
          database: source?.database ?? "",
          estimatedBytes: Math.round(table.estimatedBytes),
        };
      })
      .sort((a, b) => b.estimatedBytes - a.estimatedBytes || b.rows - a.rows)
      .slice(0, TABLES_LIMIT),
    growth: [...days.entries()].map(([day, size]) => ({ day, rows: size.rows, bytes: Math.round(size.bytes) })),
    retention: forecastRetention(partitions, rules, now, facts.holds),
    overhead: [
      ...overheadBytes,
      { name: "Everything else", tables: [], bytes: Math.max(0, facts.databaseBytes - trailBytes - named) },
    ],
  };
}
