import type pg from "pg";
import { formatBytes } from "./lag";

/**
 * A source's replication slot as the source itself reports it (pg_replication_slots): how much WAL it keeps the
 * source from recycling, and how close that comes to hurting the source. Read by the web app on the source with
 * the stored credentials (lib/sources/slot-readings.ts), so it is known whether or not a worker streams the
 * source: a paused or failing database still says what it holds back.
 */
export type SlotFacts = {
  /** Whether the slot exists at the source. */
  exists: boolean;
  /** Whether a walsender (a worker) holds it now. */
  active: boolean;
  /** pg_replication_slots.wal_status: reserved, extended, unreserved or lost (null: no slot). */
  walStatus: string | null;
  /** WAL the source keeps for the slot: pg_current_wal_lsn() - restart_lsn. */
  retainedBytes: number | null;
  /** WAL past the position the slot confirmed: what the trail has not stored yet. */
  pendingBytes: number | null;
  /** pg_replication_slots.safe_wal_size: bytes more before the slot is past max_slot_wal_keep_size. */
  safeWalSizeBytes: number | null;
  /** max_slot_wal_keep_size as the server shows it ("-1" when unlimited, the default). */
  maxSlotWalKeepSize: string;
  /** The same in bytes; null when unlimited. */
  maxSlotWalKeepSizeBytes: number | null;
};

export type WalRisk = {
  level: "ok" | "warning" | "critical";
  /** What it means for the source, in a sentence; null when ok. */
  message: string | null;
  /** What to do; null when ok. */
  fix: string | null;
};

/** With no max_slot_wal_keep_size, past this much retained WAL the pages warn... */
export const WAL_WARNING_BYTES = 1024 ** 3;
/** ...and past this they say the source's disk is at risk. */
export const WAL_CRITICAL_BYTES = 10 * 1024 ** 3;
/** With max_slot_wal_keep_size set, the share of it past which the pages warn. */
export const WAL_WARNING_SHARE = 0.5;

const CAP_ADVICE =
  "To cap what any slot may keep, set max_slot_wal_keep_size on the source " +
  "(ALTER SYSTEM SET max_slot_wal_keep_size = '20GB'; SELECT pg_reload_conf();): past it PostgreSQL gives up " +
  "the slot instead of its disk, and Retrace then misses the changes in between.";

const LET_IT_ADVANCE =
  "Resume capture (or start a worker) so the slot advances, or remove the database in Retrace, which drops the slot.";

/** How close the WAL a slot retains comes to threatening the source. */
export function walRisk(slot: SlotFacts): WalRisk {
  if (!slot.exists) {
    return {
      level: "critical",
      message: "The replication slot is missing at the source: changes made since it went are not captured.",
      fix: "Remove the database in Retrace and connect it again (a new slot starts from now).",
    };
  }
  if (slot.walStatus === "lost") {
    return {
      level: "critical",
      message:
        "The source invalidated the slot (it kept more WAL than max_slot_wal_keep_size allows): " +
        "changes in the removed WAL can no longer be captured.",
      fix: "Remove the database in Retrace and connect it again; the gap stays a gap.",
    };
  }
  const retained = slot.retainedBytes ?? 0;
  const held = `The slot keeps ${formatBytes(retained)} of WAL on the source`;
  if (slot.walStatus === "unreserved") {
    return {
      level: "critical",
      message: `${held}, past max_slot_wal_keep_size (${slot.maxSlotWalKeepSize}): the source will soon invalidate it.`,
      fix: LET_IT_ADVANCE,
    };
  }
  if (slot.maxSlotWalKeepSizeBytes !== null) {
    if (retained >= slot.maxSlotWalKeepSizeBytes * WAL_WARNING_SHARE) {
      const left = slot.safeWalSizeBytes === null ? "" : `; ${formatBytes(Math.max(0, slot.safeWalSizeBytes))} left`;
      return {
        level: "warning",
        message:
          `${held}, over half of max_slot_wal_keep_size (${slot.maxSlotWalKeepSize})${left}: ` +
          "past it the source invalidates the slot and changes are lost to the trail.",
        fix: LET_IT_ADVANCE,
      };
    }
    return { level: "ok", message: null, fix: null };
  }
  if (retained >= WAL_CRITICAL_BYTES) {
    return {
      level: "critical",
      message: `${held}, and max_slot_wal_keep_size is unlimited: it grows until the source's disk is full.`,
      fix: `${LET_IT_ADVANCE}\n${CAP_ADVICE}`,
    };
  }
  if (retained >= WAL_WARNING_BYTES) {
    return {
      level: "warning",
      message: `${held}, and max_slot_wal_keep_size is unlimited: it grows as long as the slot does not advance.`,
      fix: `${LET_IT_ADVANCE}\n${CAP_ADVICE}`,
    };
  }
  return { level: "ok", message: null, fix: null };
}

const toNumber = (value: string | null): number | null => (value === null ? null : Number(value));

/** Reads a slot's facts at the source; any role may read pg_replication_slots and pg_settings. */
export async function readSlotFacts(client: pg.ClientBase, slotName: string): Promise<SlotFacts> {
  const { rows } = await client.query<{
    exists: boolean;
    active: boolean | null;
    wal_status: string | null;
    retained: string | null;
    pending: string | null;
    safe_wal_size: string | null;
    keep_size: string;
    keep_size_mb: string;
  }>(
    `select s.slot_name is not null as exists, s.active, s.wal_status,
            (pg_current_wal_lsn() - s.restart_lsn)::bigint::text as retained,
            (pg_current_wal_lsn() - s.confirmed_flush_lsn)::bigint::text as pending,
            s.safe_wal_size::text as safe_wal_size,
            current_setting('max_slot_wal_keep_size') as keep_size,
            (select setting from pg_settings where name = 'max_slot_wal_keep_size') as keep_size_mb
       from (select 1) one left join pg_replication_slots s on s.slot_name = $1`,
    [slotName],
  );
  const row = rows[0];
  if (!row) throw new Error("the slot query returned no row");
  const keepMb = Number(row.keep_size_mb);
  return {
    exists: row.exists,
    active: row.active ?? false,
    walStatus: row.wal_status,
    retainedBytes: toNumber(row.retained),
    pendingBytes: toNumber(row.pending),
    safeWalSizeBytes: toNumber(row.safe_wal_size),
    maxSlotWalKeepSize: row.keep_size,
    maxSlotWalKeepSizeBytes: keepMb < 0 ? null : keepMb * 1024 * 1024,
  };
}
