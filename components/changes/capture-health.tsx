"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { CAPTURE_TONE } from "@/components/databases/capture-health";
import { classes } from "@/components/ui/classes";
import { sourcesInView, type FilterValues } from "@/lib/changes/filters";
import { databaseQueries } from "@/lib/query/databases";
import type { DatabaseJson } from "@/lib/sources/api-types";
import { RelativeTime } from "./time";

/**
 * Capture health of the sources a view shows changes of (lib/sources/health.ts decides each one's): `live` only
 * when every one of them is live; `unknown` until the databases are read, or when they cannot be.
 */
export type CaptureInView =
  { state: "unknown"; error: string | null } | { state: "live" } | { state: "not-live"; problems: DatabaseJson[] };

/** The databases list (polled, and prefetched by the pages that show changes) narrowed by `pick`. */
function useCapture(pick: (databases: DatabaseJson[]) => DatabaseJson[]): CaptureInView {
  const query = useQuery(databaseQueries.list());
  if (!query.data) return { state: "unknown", error: query.error?.message ?? null };
  // A removed database captures nothing any more, and is not a problem of capture: its kept changes are listed.
  const problems = pick(query.data.databases).filter(
    (database) => database.health.state !== "live" && database.health.state !== "removed",
  );
  return problems.length === 0 ? { state: "live" } : { state: "not-live", problems };
}

/** The sources a filtered list of changes shows (its environment, database and source filters). */
export function useCaptureInView(filters: FilterValues): CaptureInView {
  return useCapture((databases) => sourcesInView(databases, filters));
}

/** The one source a change came from. */
export function useCaptureOf(sourceId: string): CaptureInView {
  return useCapture((databases) => databases.filter((database) => database.id === sourceId));
}

const SEVERITY = { red: 2, amber: 1, slate: 0 } as const;

const BANNER = {
  red: "border-red-200 bg-red-50 text-red-900",
  amber: "border-amber-200 bg-amber-50 text-amber-900",
  slate: "border-slate-200 bg-white text-slate-800",
};

type Problem = Exclude<DatabaseJson["health"]["state"], "live">;

/** What capture of a database does, when not live: "Capture of shop is failing". */
const DOES: Record<Problem, string> = {
  failing: "is failing",
  no_worker: "has stopped",
  lagging: "is lagging",
  starting: "is starting",
  paused: "is paused",
  removed: "was removed",
};

export function problemOf(database: DatabaseJson): Problem {
  const { state } = database.health;
  return state === "live" ? "starting" : state;
}

/** "Capture of shop is failing", or "Capture is not live for 2 databases" ("capture …" inside a sentence). */
export function captureSummary(problems: DatabaseJson[], { inSentence = false } = {}): string {
  const [only] = problems;
  const capture = inSentence ? "capture" : "Capture";
  return problems.length === 1 && only
    ? `${capture} of ${only.name} ${DOES[problemOf(only)]}`
    : `${capture} is not live for ${problems.length} databases`;
}

/**
 * Where changes are shown and capture of their sources is not live: which database, why, since when, and a link
 * to its page, which has the fix. `consequence` says what that means for what is on screen.
 */
export function CaptureBanner({
  capture,
  consequence,
  now,
}: {
  capture: CaptureInView;
  consequence: string;
  now: number;
}) {
  if (capture.state !== "not-live") return null;
  const { problems } = capture;
  let tone: keyof typeof SEVERITY = "slate";
  for (const database of problems) {
    const next = CAPTURE_TONE[problemOf(database)];
    if (SEVERITY[next] > SEVERITY[tone]) tone = next;
  }
  const title = captureSummary(problems);
  return (
    <section
      role={tone === "slate" ? "status" : "alert"}
      aria-label="Capture health"
      className={classes("rounded-lg border px-4 py-3 text-sm", BANNER[tone])}
    >
      <p className="font-medium wrap-anywhere">{title}</p>
      <ul className="mt-1 space-y-1">
        {problems.map((database) => (
          <li key={database.id} className="wrap-anywhere">
            {problems.length > 1 ? <span className="font-medium">{database.name}: </span> : null}
            {database.health.reason}
            {database.failingSince ? (
              <>
                {" "}
                Failing since <RelativeTime iso={database.failingSince} now={now} />.
              </>
            ) : null}{" "}
            <Link href={`/databases/${database.id}`} className="font-medium underline">
              {database.health.fix ? "How to fix it" : `Open ${database.name}`}
            </Link>
          </li>
        ))}
      </ul>
      <p className="mt-2 text-xs opacity-80">{consequence}</p>
    </section>
  );
}
