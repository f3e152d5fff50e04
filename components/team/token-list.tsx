"use client";

import { useState } from "react";
import { RelativeTime, useNow } from "@/components/changes/time";
import { classes } from "@/components/ui/classes";
import { CellLabel, stacked } from "@/components/ui/stacked-table";
import type { TokenJson } from "@/lib/auth/api-types";
import { useRevokeToken, useTokens } from "./api";
import { EmptyState, ListError, ListLoading, RoleBadge } from "./states";

const dangerButton = classes(
  "rounded-md border border-red-300 bg-white px-3 py-1.5",
  "text-sm font-medium text-red-700 hover:bg-red-50 disabled:opacity-60",
);

export function TokenList() {
  const query = useTokens();
  const now = useNow();
  if (query.isPending) return <ListLoading label="Loading tokens…" />;
  if (!query.data) return <ListError what="tokens" message={query.error?.message} retry={() => void query.refetch()} />;
  const { tokens } = query.data;
  if (tokens.length === 0) {
    return (
      <EmptyState title="No API tokens yet">
        Scripts and other tools call the JSON API with a token. Create one above; a read-only token cannot change
        anything.
      </EmptyState>
    );
  }
  return (
    <div className="overflow-hidden rounded-lg border border-slate-200 bg-white">
      <div role="table" aria-label="API tokens" className={stacked.md.table}>
        <div role="rowgroup" className={classes(stacked.md.head, "md:border-b md:border-slate-200")}>
          <div role="row" className="md:table-row">
            {["Name", "Access", "Created", "Last used", ""].map((name, i) => (
              <div key={i} role="columnheader" className="md:table-cell md:px-4 md:py-2">
                {name || <span className="sr-only">Actions</span>}
              </div>
            ))}
          </div>
        </div>
        <div role="rowgroup" className={stacked.md.body}>
          {tokens.map((token) => (
            <TokenRow key={token.id} token={token} now={now} />
          ))}
        </div>
      </div>
    </div>
  );
}

function TokenRow({ token, now }: { token: TokenJson; now: number }) {
  const revoke = useRevokeToken();
  const [confirming, setConfirming] = useState(false);
  const cell = classes(stacked.md.cell.narrow, "grid-cols-[5rem_minmax(0,1fr)] md:py-2 md:align-middle");
  return (
    <div role="row" className={classes(stacked.md.row, token.revokedAt ? "bg-slate-50 text-slate-500" : "")}>
      <div role="cell" className={cell}>
        <CellLabel>Name</CellLabel>
        <span className="min-w-0 break-all font-medium">{token.name}</span>
      </div>
      <div role="cell" className={cell}>
        <CellLabel>Access</CellLabel>
        <span>
          <RoleBadge role={token.role} readOnlyLabel="read only" />
        </span>
      </div>
      <div role="cell" className={cell}>
        <CellLabel>Created</CellLabel>
        <span>
          <RelativeTime iso={token.createdAt} now={now} />
          {token.createdByEmail ? <span className="text-slate-500"> by {token.createdByEmail}</span> : null}
        </span>
      </div>
      <div role="cell" className={cell}>
        <CellLabel>Last used</CellLabel>
        <span>{token.lastUsedAt ? <RelativeTime iso={token.lastUsedAt} now={now} /> : "Never"}</span>
      </div>
      <div role="cell" className={classes(cell, "md:w-[18rem] md:text-right")}>
        <CellLabel>Status</CellLabel>
        {token.revokedAt ? (
          <span>
            Revoked <RelativeTime iso={token.revokedAt} now={now} />
          </span>
        ) : confirming ? (
          <div className="flex flex-wrap items-center gap-2 md:justify-end">
            <button
              type="button"
              className={dangerButton}
              disabled={revoke.isPending}
              onClick={() => revoke.mutate(token.id, { onSuccess: () => setConfirming(false) })}
            >
              Revoke “{token.name}”
            </button>
            <button
              type="button"
              className="text-sm text-slate-500 hover:underline"
              onClick={() => setConfirming(false)}
            >
              Cancel
            </button>
          </div>
        ) : (
          <div className="md:flex md:justify-end">
            <button type="button" className={dangerButton} onClick={() => setConfirming(true)}>
              Revoke
            </button>
          </div>
        )}
        {revoke.error ? (
          <p role="alert" className="text-sm text-red-700">
            {revoke.error.message}
          </p>
        ) : null}
      </div>
    </div>
  );
}
