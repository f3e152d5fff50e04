"use client";

import { smallSecondaryButton } from "@/components/ui/classes";
import { ApiError } from "@/lib/api/client";
import type { SourceTableJson } from "@/lib/sources/api-types";
import { fixOf, useFixIdentity } from "./api";
import { CopyBlock } from "./copy-block";

const LABELS: Record<SourceTableJson["replicaIdentity"], string> = {
  default: "Default",
  nothing: "Nothing",
  full: "Full",
  index: "Index",
};

/** What a replica identity other than FULL costs the trail, in a user's words. */
export function identityMeaning(table: Pick<SourceTableJson, "replicaIdentity" | "hasPrimaryKey">): string | null {
  switch (table.replicaIdentity) {
    case "full":
      return null;
    case "index":
      return "Updates and deletes carry only the index columns of the previous row.";
    case "nothing":
      return "The source refuses UPDATE and DELETE on it while it is published, and no previous row is sent.";
    case "default":
      return table.hasPrimaryKey
        ? "Updates and deletes carry only the primary key of the previous row."
        : "No primary key: the source refuses UPDATE and DELETE on it while it is published.";
  }
}

/**
 * The table's replica identity. A tracked table whose identity is no longer FULL (someone changed it after
 * tracking) is flagged with what it costs and a one-click fix; the owner's SQL when Retrace may not run it.
 */
export function IdentityCell({ id, table, canEdit }: { id: string; table: SourceTableJson; canEdit: boolean }) {
  const fix = useFixIdentity(id);
  const name = `${table.schema}.${table.name}`;
  const drifted = table.tracked && table.replicaIdentity !== "full";
  const ownerSql = fix.error instanceof ApiError ? fixOf(fix.error.details) : null;
  if (!drifted) {
    return (
      <span title={identityMeaning(table) ?? "Updates and deletes carry the whole previous row."}>
        {LABELS[table.replicaIdentity]}
      </span>
    );
  }
  return (
    <div className="space-y-1" data-testid="identity-drift">
      <p>
        <span className="rounded bg-amber-50 px-1.5 py-0.5 text-xs font-medium text-amber-800 ring-1 ring-amber-200">
          {LABELS[table.replicaIdentity]}: changed since tracking
        </span>
      </p>
      <p className="text-xs text-slate-600">{identityMeaning(table)}</p>
      {canEdit ? (
        <button
          type="button"
          className={smallSecondaryButton}
          disabled={fix.isPending}
          onClick={() => fix.mutate(name)}
          aria-label={`Set REPLICA IDENTITY FULL on ${name}`}
        >
          {fix.isPending ? "Setting FULL…" : "Set FULL"}
        </button>
      ) : null}
      {fix.error ? (
        <div role="alert" className="text-xs text-red-700">
          <p>{fix.error.message}</p>
          {ownerSql ? <CopyBlock text={ownerSql} /> : null}
        </div>
      ) : null}
    </div>
  );
}
