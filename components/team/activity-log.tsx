"use client";

import { usePathname, useRouter } from "next/navigation";
import { type FormEvent } from "react";
import { exactTime, RelativeTime, useNow } from "@/components/changes/time";
import { classes, inputClass, secondaryButton } from "@/components/ui/classes";
import { LoadMore } from "@/components/ui/load-more";
import { AUDIT_ACTION_LABELS, AUDIT_ACTIONS, AUDIT_GROUPS, isAuditAction } from "@/lib/audit/actions";
import type { AuditEventJson } from "@/lib/auth/api-types";
import type { AuditFilterValues } from "@/lib/query/keys";
import { useAudit } from "./api";
import { EmptyState, ListError, ListLoading } from "./states";

const label = "block text-sm font-medium text-slate-700";

/** Retrace's own audit log, newest first; the filters live in the URL (?action=&actor=). */
export function ActivityLog({ filters }: { filters: AuditFilterValues }) {
  const router = useRouter();
  const pathname = usePathname();

  function apply(next: AuditFilterValues) {
    const params = new URLSearchParams();
    if (next.action) params.set("action", next.action);
    if (next.actor.trim()) params.set("actor", next.actor.trim());
    const query = params.toString();
    router.replace(query ? `${pathname}?${query}` : pathname);
  }

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    apply({ action: String(form.get("action") ?? ""), actor: String(form.get("actor") ?? "") });
  }

  return (
    <div className="space-y-4">
      <form
        key={`${filters.action}|${filters.actor}`}
        onSubmit={onSubmit}
        className={classes(
          "grid gap-3 rounded-lg border border-slate-200 bg-white p-4",
          "sm:grid-cols-[minmax(0,1fr)_minmax(0,1fr)_auto]",
        )}
        aria-label="Filter activity"
      >
        <div className="space-y-1">
          <label htmlFor="audit-action" className={label}>
            Action
          </label>
          <select
            id="audit-action"
            name="action"
            defaultValue={filters.action}
            onChange={(event) => apply({ ...filters, action: event.target.value })}
            className={inputClass}
          >
            <option value="">All actions</option>
            {AUDIT_GROUPS.map((group) => (
              <optgroup key={group} label={group}>
                <option value={group}>every {group} action</option>
                {AUDIT_ACTIONS.filter((action) => action.startsWith(`${group}.`)).map((action) => (
                  <option key={action} value={action}>
                    {action}
                  </option>
                ))}
              </optgroup>
            ))}
          </select>
        </div>
        <div className="space-y-1">
          <label htmlFor="audit-actor" className={label}>
            Who
          </label>
          <input
            id="audit-actor"
            name="actor"
            defaultValue={filters.actor}
            placeholder="Email or token name"
            className={inputClass}
          />
        </div>
        <div className="flex items-end gap-2">
          <button type="submit" className={classes(secondaryButton, "w-full sm:w-auto")}>
            Filter
          </button>
          {filters.action || filters.actor ? (
            <button
              type="button"
              className="whitespace-nowrap px-2 py-2 text-sm text-slate-500 hover:underline"
              onClick={() => apply({ action: "", actor: "" })}
            >
              Clear
            </button>
          ) : null}
        </div>
      </form>
      <Events filters={filters} />
    </div>
  );
}

function Events({ filters }: { filters: AuditFilterValues }) {
  const query = useAudit(filters);
  const now = useNow();
  if (query.isPending) return <ListLoading label="Loading activity…" />;
  if (!query.data) {
    return <ListError what="activity" message={query.error?.message} retry={() => void query.refetch()} />;
  }
  const events = query.data.pages.flatMap((page) => page.events);
  if (events.length === 0) {
    return (
      <EmptyState title={filters.action || filters.actor ? "Nothing matches these filters" : "No activity yet"}>
        Sign-ins, connecting, changing or removing a database, managing users and tokens, reverts and baselines show
        here.
      </EmptyState>
    );
  }
  return (
    <div className="space-y-3">
      <ol aria-label="Activity" className="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white">
        {events.map((event) => (
          <EventRow key={event.id} event={event} now={now} />
        ))}
      </ol>
      <LoadMore query={query} label="Load older" failed="older events" />
    </div>
  );
}

/** Actors that are not a signed-in user, said after their name. */
const ACTOR_KINDS = new Map([
  ["token", "API token"],
  ["cli", "command line"],
  ["anonymous", "not signed in"],
]);

/**
 * A rolled-up row (a sign-in refused by the limit, lib/audit/record.ts recordRepeatedAudit): how many times, the
 * latest time and why; the other details as they are.
 */
function repeatOf(details: unknown) {
  if (typeof details !== "object" || details === null) return null;
  const { count, lastAt, reason, ...rest } = details as Record<string, unknown>;
  if (typeof count !== "number" || typeof lastAt !== "string") return null;
  return { count, lastAt, reason: typeof reason === "string" ? reason : null, rest };
}

function detailText(details: unknown): string | null {
  if (typeof details !== "object" || details === null) return null;
  const parts = Object.entries(details as Record<string, unknown>).map(([key, value]) => {
    if (typeof value === "object" && value !== null && "from" in value && "to" in value) {
      return `${key}: ${String(value.from)} → ${String(value.to)}`;
    }
    if (Array.isArray(value)) return `${key}: ${value.join(", ") || "none"}`;
    return `${key}: ${String(value)}`;
  });
  return parts.length > 0 ? parts.join(" · ") : null;
}

function EventRow({ event, now }: { event: AuditEventJson; now: number }) {
  const repeat = repeatOf(event.details);
  const said = isAuditAction(event.action) ? AUDIT_ACTION_LABELS[event.action] : event.action;
  const verb = repeat ? `${said} ×${repeat.count}${repeat.reason ? ` (${repeat.reason})` : ""}` : said;
  const details = detailText(repeat ? repeat.rest : event.details);
  const kindLabel = ACTOR_KINDS.get(event.actor.kind);
  return (
    <li className="px-4 py-3 text-sm">
      <div className="flex flex-col gap-1 sm:flex-row sm:items-baseline sm:justify-between sm:gap-4">
        <p className="min-w-0 break-words">
          <span className="font-medium text-slate-900">{event.actor.label}</span>
          {kindLabel ? <span className="text-slate-500"> ({kindLabel})</span> : null}{" "}
          <span className="text-slate-700">{verb}</span>{" "}
          {event.target ? (
            <span className="font-medium text-slate-900">{event.target.label ?? event.target.id}</span>
          ) : null}
        </p>
        <p className="shrink-0 text-xs text-slate-500" title={exactTime(event.at)}>
          <RelativeTime iso={event.at} now={now} />
        </p>
      </div>
      <p className="mt-1 flex flex-wrap gap-x-3 text-xs text-slate-500">
        <code className="font-mono">{event.action}</code>
        {details ? <span className="break-words">{details}</span> : null}
        {repeat ? (
          <span>
            first{" "}
            <time dateTime={event.at} className="whitespace-nowrap">
              {exactTime(event.at)}
            </time>
            , last{" "}
            <time dateTime={repeat.lastAt} className="whitespace-nowrap">
              {exactTime(repeat.lastAt)}
            </time>
          </span>
        ) : null}
        {event.address ? <span>from {event.address}</span> : null}
      </p>
    </li>
  );
}
