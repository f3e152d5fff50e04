import { ruleFor, type RetentionRule } from "./input";

/**
 * What retention rules mean for the partitions the trail has now: which expire (and are dropped by the worker's
 * next expiry pass) and which will within 7 and 30 days. A partition an active hold keeps (lib/holds) frees
 * nothing while it holds. Pure: the caller reads the partitions, their sizes and the holds.
 */

const DAY_MS = 86_400_000;

/** A partition of the trail (a trail_partitions row) with its size on disk and its changes. */
export type PartitionSize = {
  name: string;
  sourceId: string;
  /** The environment of its source; null when the source is gone (its partitions follow no rule). */
  environment: string | null;
  /** '' for the source's own partitions, 'schema.table' for a table that had its own rule. */
  bucket: string;
  fromAt: Date;
  toAt: Date;
  /** pg_total_relation_size: exact. */
  bytes: number;
  /** From the change summary (change_segments). */
  rows: number;
};

export type Freed = { partitions: number; bytes: number; rows: number };

export type RuleForecast = RetentionRule & { now: Freed; within7Days: Freed; within30Days: Freed };

export type RetentionForecast = {
  /** Every rule (the ones that free nothing too), in the order given. */
  rules: RuleForecast[];
  total: { now: Freed; within7Days: Freed; within30Days: Freed };
};

/**
 * The rule a partition follows: a table's bucket follows the table's rule while there is one (else, once it is
 * removed, its environment's); the source's own partitions follow the environment's rule.
 */
export function governingRule(
  partition: Pick<PartitionSize, "environment" | "bucket">,
  rules: readonly RetentionRule[],
): RetentionRule | undefined {
  if (partition.environment === null) return undefined;
  return ruleFor(rules, partition.environment, partition.bucket === "" ? null : partition.bucket);
}

/** When a partition's newest possible change is `days` old: it expires then. Null: kept forever. */
export function expiresAt(partition: Pick<PartitionSize, "toAt">, rule: RetentionRule | undefined): Date | null {
  if (!rule || rule.days === null) return null;
  return new Date(partition.toAt.getTime() + rule.days * DAY_MS);
}

/** An active hold's span of one database: [fromAt, toAt) of commit time. */
export type HeldSpan = { sourceId: string; fromAt: Date; toAt: Date };

/** Whether a hold keeps a partition: of its database, their spans ([from, to) both) overlapping. */
export function heldBy(hold: HeldSpan, partition: Pick<PartitionSize, "sourceId" | "fromAt" | "toAt">): boolean {
  return (
    hold.sourceId === partition.sourceId &&
    hold.fromAt.getTime() < partition.toAt.getTime() &&
    partition.fromAt.getTime() < hold.toAt.getTime()
  );
}

const none = (): Freed => ({ partitions: 0, bytes: 0, rows: 0 });

function add(freed: Freed, partition: PartitionSize): void {
  freed.partitions += 1;
  freed.bytes += partition.bytes;
  freed.rows += partition.rows;
}

/**
 * What `rules` free of `partitions` at `now`, within 7 days and within 30 days (each counts the ones before); the
 * partitions `holds` keep are left out (a hold lasts until it is released, whenever that is).
 */
export function forecastRetention(
  partitions: readonly PartitionSize[],
  rules: readonly RetentionRule[],
  now: Date,
  holds: readonly HeldSpan[] = [],
): RetentionForecast {
  const forecasts = rules.map((rule) => ({ ...rule, now: none(), within7Days: none(), within30Days: none() }));
  const total = { now: none(), within7Days: none(), within30Days: none() };
  for (const partition of partitions) {
    const rule = governingRule(partition, rules);
    const at = expiresAt(partition, rule);
    if (!rule || !at || holds.some((hold) => heldBy(hold, partition))) continue;
    const forecast = forecasts[rules.indexOf(rule)];
    if (!forecast) continue;
    const wait = at.getTime() - now.getTime();
    const spans: (keyof RetentionForecast["total"])[] = [];
    if (wait <= 0) spans.push("now");
    if (wait <= 7 * DAY_MS) spans.push("within7Days");
    if (wait <= 30 * DAY_MS) spans.push("within30Days");
    for (const span of spans) {
      add(forecast[span], partition);
      add(total[span], partition);
    }
  }
  return { rules: forecasts, total };
}
