import { formatSeconds } from "./lag";

/**
 * Past this many seconds behind the source, capture is "lagging" and the Changes page says so instead of
 * "Live". Lag is measured at every heartbeat (30 s by default), so a measured lag is up to one interval old;
 * a burst the worker clears in seconds (a million-row transaction takes ~20 s on two cores) should not flip
 * the page, while a trail a minute behind no longer shows what happens as it happens (the list refreshes
 * every 3 s).
 */
export const LAGGING_AFTER_SECONDS = 60;

/**
 * How long a new or resumed source may wait for a worker to take it before the pages say none is running: a
 * worker looks for sources every 2 s (worker/worker.ts), and leasing and connecting take a moment more.
 */
export const PICKUP_GRACE_SECONDS = 15;

/**
 * - `live`: a worker streams the source and the trail is at most LAGGING_AFTER_SECONDS behind (or how far is
 *   not known yet: just started, nothing stored to measure from);
 * - `starting`: new or resumed, a worker is connecting to it (or, for PICKUP_GRACE_SECONDS, is yet to take it);
 * - `lagging`: streaming, but further behind than that;
 * - `failing`: its replication sessions fail (the worker retries);
 * - `paused`: capture paused by a user;
 * - `no_worker`: enabled, but no worker holds its lease: none is running, or none can reach the store;
 * - `removed`: removed by a user who kept its captured changes; nothing captures it any more.
 */
export type CaptureState = "live" | "starting" | "lagging" | "failing" | "paused" | "no_worker" | "removed";

export type CaptureHealth = {
  state: CaptureState;
  /** Why it is not live, in a sentence; null when live. */
  reason: string | null;
  /** What to do about it; null when there is nothing to do, or nothing known. */
  fix: string | null;
  /**
   * Whether lagBytes and lagSeconds describe the stream now: a worker streams the source and has measured it.
   * Otherwise they are the last measurement, from lagMeasuredAt, and say nothing about now.
   */
  lagCurrent: boolean;
};

/** What the verdict is drawn from: the source's row, and whether a worker holds its lease now. */
export type HealthFacts = {
  enabled: boolean;
  status: "pending" | "streaming" | "error" | "paused";
  lastError: string | null;
  lastErrorFix: string | null;
  lagSeconds: number | null;
  lagMeasuredAt: Date | null;
  leased: boolean;
  /** When the row last changed: for a pending source, when it was connected or resumed. */
  updatedAt: Date;
  /** When it was removed, its changes kept (lib/sources/remove.ts); null or absent while connected. */
  removedAt?: Date | null;
  /** Where it is; empty for a database recreated by an archive import (the archive does not say). */
  host?: string;
};

const START_A_WORKER =
  "Start one: `npx retrace start` runs the web app with a worker, `npx retrace worker` a worker alone. " +
  "Changes made meanwhile wait in the source's replication slot.";

/** Whether capture of a source is live, and if not, why and what to do. */
export function captureHealth(facts: HealthFacts, now: Date = new Date()): CaptureHealth {
  const lagCurrent = facts.leased && facts.status === "streaming" && facts.lagMeasuredAt !== null;
  const verdict = (state: CaptureState, reason: string | null, fix: string | null = null): CaptureHealth => ({
    state,
    reason,
    fix,
    lagCurrent,
  });
  if (facts.removedAt && facts.host === "") {
    return verdict(
      "removed",
      "Recreated by an archive import: its imported changes are here; where it was is not in the " +
        "archive, so it cannot stream. Connect the database to capture it again.",
    );
  }
  if (facts.removedAt) {
    return verdict(
      "removed",
      "Its replication slot and publication were dropped at the source; its captured changes are kept.",
    );
  }
  if (!facts.enabled || facts.status === "paused") {
    return verdict(
      "paused",
      "Capture is paused.",
      "Resume it on the database's page; the replication slot keeps the changes made meanwhile.",
    );
  }
  if (facts.status === "error") {
    const reason = facts.lastError ?? "The worker could not stream this database.";
    if (facts.leased) return verdict("failing", reason, facts.lastErrorFix);
    // The error is the last one recorded; nobody is retrying now.
    const fix = [facts.lastErrorFix, `No worker is retrying it now. ${START_A_WORKER}`].filter(Boolean).join("\n");
    return verdict("failing", reason, fix);
  }
  const justAsked = now.getTime() - facts.updatedAt.getTime() < PICKUP_GRACE_SECONDS * 1000;
  if (!facts.leased && facts.status === "pending" && justAsked) {
    return verdict("starting", "Waiting for a worker to take it up.");
  }
  if (!facts.leased) return verdict("no_worker", "No Retrace worker is streaming this database.", START_A_WORKER);
  if (facts.status === "pending") return verdict("starting", "A worker is connecting to it.");
  if (facts.lagSeconds !== null && facts.lagSeconds > LAGGING_AFTER_SECONDS) {
    return verdict(
      "lagging",
      `The audit trail is ${formatSeconds(facts.lagSeconds)} behind the source.`,
      "The worker catches up by itself: it is working through a backlog or a large transaction, or the store " +
        "is slow. If the lag keeps growing, look at the worker's log and the store's load.",
    );
  }
  return verdict("live", null);
}
