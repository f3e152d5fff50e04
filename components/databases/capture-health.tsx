import { exactTime, RelativeTime } from "@/components/changes/time";
import { classes } from "@/components/ui/classes";
import type { DatabaseJson } from "@/lib/sources/api-types";
import { CopyBlock } from "./copy-block";
import { heldBack } from "./slot";

/** The states in which nobody reads the slot: what it holds back grows. */
const NOT_STREAMED = new Set<CaptureState>(["paused", "failing", "no_worker"]);

function holding(database: DatabaseJson): string | null {
  return NOT_STREAMED.has(database.health.state) ? heldBack(database) : null;
}

type CaptureState = DatabaseJson["health"]["state"];

/** How loud a state is: an error is red, what needs someone amber, what only waits grey. */
export const CAPTURE_TONE: Record<Exclude<CaptureState, "live">, "red" | "amber" | "slate"> = {
  failing: "red",
  no_worker: "amber",
  lagging: "amber",
  starting: "slate",
  paused: "slate",
  removed: "slate",
};

const TEXT = { red: "text-red-700", amber: "text-amber-800", slate: "text-slate-600" };

const PANEL = {
  red: "border-red-200 bg-red-50 text-red-900",
  amber: "border-amber-200 bg-amber-50 text-amber-900",
  slate: "border-slate-200 bg-slate-50 text-slate-800",
};

/** The panel's heading: what the state means for capture. */
const HEADING: Record<Exclude<CaptureState, "live">, string> = {
  failing: "Capture is failing",
  no_worker: "Capture has stopped",
  lagging: "Capture is lagging",
  starting: "Capture is starting",
  paused: "Capture is paused",
  removed: "Removed",
};

/** In a row of the databases list, under the status: why capture is not live, since when, and the fix. */
export function CaptureNote({ database, now }: { database: DatabaseJson; now: number }) {
  const { health, failingSince } = database;
  if (health.state === "live") return null;
  return (
    <div className={classes("mt-1 space-y-1 text-xs wrap-anywhere", TEXT[CAPTURE_TONE[health.state]])}>
      <p>
        {health.reason}
        {failingSince ? (
          <span className="text-slate-500">
            {" "}
            Failing since <RelativeTime iso={failingSince} now={now} />.
          </span>
        ) : null}
      </p>
      {holding(database) ? <p className="text-slate-600">{holding(database)}</p> : null}
      {database.removedAt ? (
        <p className="text-slate-500">
          Removed <RelativeTime iso={database.removedAt} now={now} />.
        </p>
      ) : null}
      {health.fix ? (
        <p className="whitespace-pre-line text-slate-600">
          <span className="font-medium">Fix: </span>
          {health.fix}
        </p>
      ) : null}
    </div>
  );
}

/** On a database's page: the same, at length, with the fix ready to copy. */
export function CapturePanel({ database, now }: { database: DatabaseJson; now: number }) {
  const { health, failingSince } = database;
  if (health.state === "live") return null;
  const tone = CAPTURE_TONE[health.state];
  return (
    <section
      role={tone === "slate" ? "status" : "alert"}
      aria-labelledby="capture-heading"
      className={classes("rounded-md border px-4 py-3 text-sm", PANEL[tone])}
    >
      <h2 id="capture-heading" className="font-medium">
        {HEADING[health.state]}
      </h2>
      <p className="mt-1 wrap-anywhere">{health.reason}</p>
      {holding(database) ? <p className="mt-1">{holding(database)}</p> : null}
      {failingSince ? (
        <p className="mt-1 text-xs">
          Failing since <span className="font-mono">{exactTime(failingSince)}</span> (
          <RelativeTime iso={failingSince} now={now} />
          ).
        </p>
      ) : null}
      {health.fix ? (
        <div className="mt-3">
          <p className="text-xs font-medium uppercase tracking-wide">How to fix it</p>
          <CopyBlock text={health.fix} />
        </div>
      ) : null}
    </section>
  );
}
