"use client";

import Link from "next/link";
import { useMutation } from "@tanstack/react-query";
import { smallSecondaryButton } from "@/components/ui/classes";
import { apiFetch } from "@/lib/api/client";
import { RelativeTime } from "@/components/changes/time";
import type { SealState } from "@/lib/seals/state";
import type { DatabaseVerification, VerifyProblem } from "@/lib/seals/types";

const PROBLEMS: Record<VerifyProblem, string> = {
  altered: "A change was altered after it was sealed",
  inserted: "A change was inserted into the trail behind Retrace's back",
  removed: "A sealed change was removed from the trail",
  "seals-tampered": "The seals themselves were tampered with",
};

function key(primaryKey: string | null): string {
  return primaryKey === null ? "no key" : `key ${primaryKey}`;
}

/** How far the seal chain reaches: all stored changes, or behind the newest; and an upgrade's seals to complete. */
function SealStatus({ seals, lastChangeAt, now }: { seals: SealState; lastChangeAt: string | null; now: number }) {
  const { sealedUpTo, completing } = seals;
  const behind = lastChangeAt !== null && (!sealedUpTo || Date.parse(sealedUpTo.at) < Date.parse(lastChangeAt));
  return (
    <div data-testid="seal-status" className="space-y-1 border-t border-slate-200 px-4 py-3 text-sm text-slate-600">
      {sealedUpTo === null ? (
        <p>
          {lastChangeAt === null
            ? "Nothing is stored yet, so nothing is sealed."
            : "No change is sealed yet: a running worker seals stored changes within seconds."}
        </p>
      ) : (
        <p>
          {behind ? "Sealed up to " : "Every stored change is sealed, up to "}
          <Link href={`/changes/${sealedUpTo.changeId}`} className="underline">
            change {sealedUpTo.changeId}
          </Link>
          , committed <RelativeTime iso={sealedUpTo.at} now={now} />
          {behind && lastChangeAt !== null ? (
            <>
              ; the newest stored change was committed <RelativeTime iso={lastChangeAt} now={now} /> (the sealer is
              catching up)
            </>
          ) : null}
          .
        </p>
      )}
      {completing > 0 ? (
        <p>
          Completing the seals of changes stored before this version ({completing.toLocaleString("en-US")} to go): until
          then a page of a big table as of a time is read the slower way.
        </p>
      ) : null}
    </div>
  );
}

/**
 * Tamper evidence: re-computes the database's sealed hash chain on demand (POST /api/databases/:id/verify) and
 * shows whether the trail verifies, or the first change altered, inserted or removed behind Retrace's back; and how
 * far the chain reaches.
 */
export function VerifyPanel({
  id,
  seals,
  lastChangeAt,
  now,
}: {
  id: string;
  seals: SealState;
  lastChangeAt: string | null;
  now: number;
}) {
  const verify = useMutation({
    mutationFn: () =>
      apiFetch<{ verification: DatabaseVerification }>(`/api/databases/${encodeURIComponent(id)}/verify`, {
        method: "POST",
        body: "{}",
      }),
  });
  const result = verify.data?.verification;
  return (
    <section aria-labelledby="verify-heading" className="rounded-lg border border-slate-200 bg-white">
      <div className="flex flex-wrap items-center justify-between gap-4 border-b border-slate-200 px-4 py-3">
        <h2 id="verify-heading" className="text-base font-semibold">
          Tamper evidence
        </h2>
        <button
          type="button"
          className={smallSecondaryButton}
          disabled={verify.isPending}
          onClick={() => verify.mutate()}
        >
          {verify.isPending ? "Verifying…" : "Verify"}
        </button>
      </div>
      <div aria-live="polite" className="px-4 py-3 text-sm">
        {verify.isPending ? (
          <p role="status" className="text-slate-600">
            Re-computing the sealed hash chain…
          </p>
        ) : verify.isError ? (
          <p role="alert" className="text-red-700">
            Could not verify: {verify.error.message}
          </p>
        ) : result?.ok ? (
          <div role="status" data-testid="verify-result" className="text-emerald-800">
            <p className="font-medium">
              The trail verifies: {result.verified.toLocaleString("en-US")} change
              {result.verified === 1 ? "" : "s"} as sealed
              {result.upTo ? (
                <>
                  , up to change{" "}
                  <Link href={`/changes/${result.upTo.id}`} className="underline">
                    {result.upTo.id}
                  </Link>{" "}
                  ({result.upTo.table}, {key(result.upTo.primaryKey)})
                </>
              ) : null}
              .
            </p>
            {result.unsealed > 0 ? (
              <p className="mt-1 text-slate-600">
                {result.unsealed.toLocaleString("en-US")} newer change{result.unsealed === 1 ? " is" : "s are"} not
                sealed yet (changes are sealed within seconds of being stored).
              </p>
            ) : null}
            {result.expired > 0 ? (
              <p className="mt-1 text-slate-600">
                {result.expired.toLocaleString("en-US")} older change{result.expired === 1 ? " was" : "s were"} dropped
                by retention: their seals still chain, and a signed expiry record covers each.
              </p>
            ) : null}
          </div>
        ) : result ? (
          <div role="alert" data-testid="verify-result" className="text-red-800">
            <p className="font-medium">{PROBLEMS[result.problem]}.</p>
            <p className="mt-1 wrap-anywhere">{result.message}</p>
            {result.change && result.problem !== "removed" ? (
              <Link href={`/changes/${result.change.id}`} className="mt-1 inline-block font-medium underline">
                Open change {result.change.id}
              </Link>
            ) : null}
          </div>
        ) : (
          <p className="text-slate-600">
            Every stored change is sealed into a hash chain with signed checkpoints. Verify re-computes it and names the
            first change altered, inserted or removed since.
          </p>
        )}
      </div>
      <SealStatus seals={seals} lastChangeAt={lastChangeAt} now={now} />
    </section>
  );
}
