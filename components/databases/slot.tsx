import type { ReactNode } from "react";
import { exactTime, RelativeTime } from "@/components/changes/time";
import { classes } from "@/components/ui/classes";
import type { DatabaseJson } from "@/lib/sources/api-types";
import { formatBytes } from "@/lib/sources/lag";
import { CopyBlock } from "./copy-block";

/**
 * The database's replication slot as the source reports it (lib/sources/slot.ts): the WAL it keeps on the source,
 * and whether that threatens the source's disk. Read by the web app on the source, so it is shown whether or not
 * a worker streams the database.
 */

type Reading = NonNullable<DatabaseJson["slot"]>;

const RISK_TEXT = { warning: "text-amber-800", critical: "text-red-700" } as const;
const RISK_PANEL = {
  warning: "border-amber-200 bg-amber-50 text-amber-900",
  critical: "border-red-200 bg-red-50 text-red-900",
} as const;
const RISK_LABEL = { warning: "Warning", critical: "At risk" } as const;

/** In the databases list: the WAL the slot retains, with a warning before it threatens the source's disk. */
export function WalRetained({ database }: { database: DatabaseJson }) {
  const reading = database.slot;
  if (database.removedAt) return <span className="text-slate-400">—</span>;
  if (!reading) {
    return (
      <span className="text-slate-400" title="The source has not answered yet">
        Reading…
      </span>
    );
  }
  if (reading.error || !reading.slot) {
    return (
      <span className="text-slate-500" title={reading.error ?? undefined}>
        Unknown
        <span className="block text-xs">source not reachable</span>
      </span>
    );
  }
  const risk = reading.risk;
  const level = risk && risk.level !== "ok" ? risk.level : null;
  if (!reading.slot.exists) {
    return <span className={classes("text-xs font-medium", RISK_TEXT.critical)}>Slot missing</span>;
  }
  return (
    <span
      className={classes("tabular-nums", level ? RISK_TEXT[level] : "")}
      title={`${risk?.message ?? "Read from pg_replication_slots"} (read ${exactTime(reading.readAt)})`}
    >
      <span className="whitespace-nowrap">{formatBytes(reading.slot.retainedBytes ?? 0)}</span>
      {level ? <span className="block text-xs font-medium">⚠ {RISK_LABEL[level]}: disk of the source</span> : null}
    </span>
  );
}

/** "It holds back 1.2 GB of WAL on the source." for a database that is not streamed; null when not known. */
export function heldBack(database: DatabaseJson): string | null {
  const retained = database.slot?.slot?.retainedBytes;
  if (retained === null || retained === undefined || !database.slot?.slot?.exists) return null;
  return `Its replication slot holds back ${formatBytes(retained)} of WAL on the source meanwhile.`;
}

function Fact({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-[8rem_minmax(0,1fr)] gap-3 px-4 py-2.5 sm:grid-cols-[12rem_minmax(0,1fr)] sm:gap-4">
      <dt className="text-sm text-slate-500">{term}</dt>
      <dd className="text-sm wrap-anywhere">{children}</dd>
    </div>
  );
}

function keepSize(reading: Reading): string {
  const slot = reading.slot;
  if (!slot) return "—";
  return slot.maxSlotWalKeepSizeBytes === null ? "unlimited" : slot.maxSlotWalKeepSize;
}

/** On a database's page: the slot at length, and what to do when it keeps too much. */
export function SlotSection({ database, now }: { database: DatabaseJson; now: number }) {
  if (database.removedAt) return null;
  const reading = database.slot;
  const risk = reading?.risk && reading.risk.level !== "ok" ? reading.risk : null;
  const level = risk?.level === "critical" ? "critical" : "warning";
  return (
    <section aria-labelledby="slot-heading" className="rounded-lg border border-slate-200 bg-white">
      <div
        className={classes(
          "flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1",
          "border-b border-slate-200 px-4 py-3",
        )}
      >
        <h2 id="slot-heading" className="text-base font-semibold">
          Replication slot at the source
        </h2>
        {reading ? (
          <p className="text-xs text-slate-500">
            read <RelativeTime iso={reading.readAt} now={now} />
          </p>
        ) : null}
      </div>
      {risk ? (
        <div role="alert" className={classes("mx-4 mt-3 rounded-md border px-4 py-3 text-sm", RISK_PANEL[level])}>
          <p className="font-medium">{level === "critical" ? "The source is at risk" : "WAL is piling up"}</p>
          <p className="mt-1">{risk.message}</p>
          {risk.fix ? <p className="mt-2 whitespace-pre-line text-xs">{risk.fix}</p> : null}
          {reading?.slot?.maxSlotWalKeepSizeBytes === null ? (
            <CopyBlock text={"ALTER SYSTEM SET max_slot_wal_keep_size = '20GB';\nSELECT pg_reload_conf();"} />
          ) : null}
        </div>
      ) : null}
      {!reading ? (
        <p className="px-4 py-4 text-sm text-slate-500">The source has not answered yet; this fills in shortly.</p>
      ) : reading.error || !reading.slot ? (
        <p className="px-4 py-4 text-sm text-slate-600">
          Could not read the slot at the source: <span className="wrap-anywhere">{reading.error}</span>
        </p>
      ) : (
        <dl className="divide-y divide-slate-100">
          <Fact term="WAL retained">
            <span className="tabular-nums">{formatBytes(reading.slot.retainedBytes ?? 0)}</span>
            <span className="block text-xs text-slate-500">
              pg_current_wal_lsn() − restart_lsn: WAL the source keeps on disk for this slot
            </span>
          </Fact>
          <Fact term="Not yet captured">
            <span className="tabular-nums">{formatBytes(reading.slot.pendingBytes ?? 0)}</span>
            <span className="block text-xs text-slate-500">WAL past the position the slot confirmed</span>
          </Fact>
          <Fact term="In use">{reading.slot.exists ? (reading.slot.active ? "yes, by a worker" : "no") : "—"}</Fact>
          <Fact term="WAL status">
            <span className="font-mono text-xs">{reading.slot.walStatus ?? "—"}</span>
            <span className="block text-xs text-slate-500">wal_status in pg_replication_slots</span>
          </Fact>
          <Fact term="Cap on kept WAL">
            {keepSize(reading)}
            <span className="block text-xs text-slate-500">
              max_slot_wal_keep_size{reading.slot.maxSlotWalKeepSizeBytes === null ? " = -1, the default" : ""}
            </span>
          </Fact>
          {reading.slot.safeWalSizeBytes !== null ? (
            <Fact term="Left before the cap">
              <span className="tabular-nums">{formatBytes(Math.max(0, reading.slot.safeWalSizeBytes))}</span>
              <span className="block text-xs text-slate-500">
                safe_wal_size: more WAL before the source invalidates the slot
              </span>
            </Fact>
          ) : null}
        </dl>
      )}
    </section>
  );
}
