"use client";

import { captureSummary, type CaptureInView } from "./capture-health";
import type { LiveTailState } from "./live-tail";

const linkButton = "font-medium text-indigo-700 hover:underline";

/**
 * Whether the list follows new changes, and if not, why (and the way back). "Live" only while the tail runs and
 * capture of every database in view is live (CaptureBanner above the list says what is wrong).
 */
export function LiveStatus({ capture, tail }: { capture: CaptureInView; tail: LiveTailState }) {
  const pause = (
    <button type="button" onClick={() => tail.setPaused(true)} className={linkButton}>
      Pause
    </button>
  );
  if (tail.paused) {
    return (
      <span role="status" className="flex flex-wrap items-center gap-x-2">
        <span className="h-2 w-2 rounded-full bg-slate-400" aria-hidden />
        Live updates paused
        <button type="button" onClick={() => tail.setPaused(false)} className={linkButton}>
          Resume
        </button>
      </span>
    );
  }
  if (tail.behind) {
    return (
      <span role="status" className="flex flex-wrap items-center gap-x-2 text-amber-800">
        More changes arrived than can be added here
        <button type="button" onClick={tail.restart} className={linkButton}>
          Show newest
        </button>
      </span>
    );
  }
  if (tail.error !== null || tail.unavailable) {
    return (
      <span role="status" className="text-amber-700 wrap-anywhere">
        Live updates paused: {tail.error ?? "the server gave no live token"}
      </span>
    );
  }
  if (capture.state === "not-live") {
    const failing = capture.problems.some((database) => database.health.state === "failing");
    return (
      <span role="status" className={`flex items-center gap-1.5 ${failing ? "text-red-700" : "text-amber-800"}`}>
        <span className={`h-2 w-2 shrink-0 rounded-full ${failing ? "bg-red-500" : "bg-amber-500"}`} aria-hidden />
        <span className="wrap-anywhere">Not live: {captureSummary(capture.problems, { inSentence: true })}</span>
        {pause}
      </span>
    );
  }
  if (capture.state === "unknown") {
    return (
      <span role="status" className="flex items-center gap-1.5" title={capture.error ?? undefined}>
        <span className="h-2 w-2 rounded-full bg-slate-400" aria-hidden />
        {capture.error ? "Capture status unknown" : "Checking capture…"}
        {pause}
      </span>
    );
  }
  return (
    <span className="flex items-center gap-1.5" title="Every database in view streams: new changes appear here">
      <span className="h-2 w-2 rounded-full bg-emerald-500" aria-hidden />
      <span>Live</span>
      <span className="ml-1">{pause}</span>
    </span>
  );
}
