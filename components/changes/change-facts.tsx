"use client";

import type { ReactNode } from "react";
import { classes } from "@/components/ui/classes";
import { Identifier } from "@/components/ui/identifier";
import type { ChangeJson } from "@/lib/changes/api-types";
import { exactTime, RelativeTime } from "./time";
import { LocalAndUtcTime } from "./zoned-time";
import { DatabaseNames } from "./database-name";
import { readableKey } from "@/lib/changes/key-text";

/** What a change is and where it comes from: table, key, commit time (local and UTC), transaction, LSN. */
export function ChangeFacts({ change, now }: { change: ChangeJson; now: number }) {
  return (
    <dl
      className={classes(
        "grid grid-cols-1 gap-x-8 gap-y-4 sm:grid-cols-2 lg:grid-cols-3",
        "rounded-lg border border-slate-200 bg-white p-4 text-sm sm:p-6",
      )}
    >
      <Item label="Operation">{change.operation}</Item>
      <Item label="Table">
        <span className="font-mono">
          <Identifier name={`${change.schema}.${change.table}`} />
        </span>
        {change.partition ? (
          <span className="block text-xs text-slate-500">
            partition <Identifier name={`${change.partition.schema}.${change.partition.table}`} />
          </span>
        ) : null}
      </Item>
      <Item label="Primary key">
        {change.primaryKey !== null ? (
          <span className="font-mono">{readableKey(change.primaryKey)}</span>
        ) : (
          <span className="text-slate-400">none</span>
        )}
      </Item>
      <Item label="Committed at">
        <LocalAndUtcTime iso={change.committedAt} />
        <span className="text-slate-500">
          <RelativeTime iso={change.committedAt} now={now} />
        </span>
      </Item>
      <Item label="Transaction ID">
        <span className="font-mono">{change.transactionId}</span>
      </Item>
      <Item label="Commit LSN">
        <span className="font-mono">{change.commitLsn}</span>
        <span className="text-slate-500"> · change {change.seq + 1} of its transaction</span>
      </Item>
      <Item label="Environment">{change.environment}</Item>
      <Item label="Database">
        <DatabaseNames names={change} />
      </Item>
      <Item label="Stored at">
        <span className="font-mono">{exactTime(change.createdAt)}</span>
      </Item>
    </dl>
  );
}

function Item({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <dt className="text-xs font-medium uppercase tracking-wide text-slate-500">{label}</dt>
      <dd className="mt-1 text-slate-900 wrap-anywhere">{children}</dd>
    </div>
  );
}
