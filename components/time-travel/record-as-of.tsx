"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { usePathname, useRouter, useSearchParams } from "next/navigation";
import { LocalAndUtcTime } from "@/components/changes/zoned-time";
import { OperationBadge } from "@/components/changes/operation-badge";
import { secondaryButton } from "@/components/ui/classes";
import { ApiError } from "@/lib/api/client";
import { isJsonObject } from "@/lib/api/json";
import type { RecordKey } from "@/lib/changes/history-key";
import { tableHref, timeTravelQueries } from "@/lib/query/time-travel";
import { AtPicker } from "./at-picker";
import { RowValues } from "./row-values";

/** The `at` search parameter, kept in the URL so a moment can be shared. */
export function useAtParam(): [string | null, (iso: string) => void] {
  const router = useRouter();
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const at = searchParams.get("at");
  const setAt = (iso: string) => {
    const params = new URLSearchParams(searchParams);
    params.set("at", iso);
    router.replace(`${pathname}?${params}`, { scroll: false });
  };
  return [at, setAt];
}

/** "As of": the row as it was at a picked moment, on the record history page. */
export function RecordAsOf({ recordKey }: { recordKey: RecordKey }) {
  const [at, setAt] = useAtParam();
  return (
    <section aria-labelledby="as-of-heading" className="rounded-lg border border-slate-200 bg-white">
      <div className="border-b border-slate-200 px-4 py-3">
        <h2 id="as-of-heading" className="text-base font-semibold">
          This row at a moment
        </h2>
        <p className="mt-1 text-sm text-slate-500">Pick a time to see the row as the source held it then.</p>
        <div className="mt-3">
          <AtPicker at={at} onPick={setAt} />
        </div>
      </div>
      {at ? <RecordAt recordKey={recordKey} at={at} /> : null}
    </section>
  );
}

function RecordAt({ recordKey, at }: { recordKey: RecordKey; at: string }) {
  const query = useQuery(timeTravelQueries.record(recordKey, at));
  if (query.isPending) {
    return (
      <div aria-busy="true" aria-label="Loading the row" className="m-4 h-24 animate-pulse rounded bg-slate-100" />
    );
  }
  if (query.isError) {
    return (
      <div role="alert" className="px-4 py-4 text-sm text-red-700">
        <p>{query.error instanceof ApiError ? query.error.message : "The server could not be reached."}</p>
        <button type="button" onClick={() => void query.refetch()} className={`${secondaryButton} mt-2`}>
          Try again
        </button>
      </div>
    );
  }
  const { row, change, baseline, jsonNullFields } = query.data;
  const tableLink = (
    <Link
      href={tableHref({ table: recordKey.table, database: recordKey.database, sourceId: recordKey.sourceId }, at)}
      className="font-medium text-indigo-700 hover:underline"
    >
      The whole table then
    </Link>
  );
  return (
    <div data-testid="record-as-of">
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2 px-4 py-3 text-sm text-slate-600">
        <span className="text-slate-500">As of</span>
        <LocalAndUtcTime iso={at} />
        {tableLink}
      </div>
      {row !== null && isJsonObject(row) ? (
        <>
          <p className="px-4 pb-2 text-sm text-slate-600" data-testid="as-of-source">
            {change ? (
              <>
                As left by the <OperationBadge operation={change.operation} /> of{" "}
                <Link href={`/changes/${change.id}`} className="text-indigo-700 hover:underline">
                  change {change.id}
                </Link>
                .
              </>
            ) : baseline ? (
              <>Unchanged since before tracking began: from the baseline taken {baseline.snapshotAt}.</>
            ) : null}
          </p>
          <RowValues row={row} jsonNullFields={jsonNullFields} />
        </>
      ) : (
        <p className="px-4 pb-4 text-sm text-slate-600" data-testid="as-of-none">
          {change?.operation === "TRUNCATE"
            ? `The row did not exist then: a TRUNCATE (change ${change.id}) had emptied the table.`
            : change?.operation === "DELETE"
              ? `The row did not exist then: it had been deleted (change ${change.id}).`
              : "The trail knows no row with this key then: it did not exist yet, or it existed before tracking " +
                "began and no baseline of the table holds it."}
        </p>
      )}
    </div>
  );
}
