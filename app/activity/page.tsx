import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { ActivityLog } from "@/components/team/activity-log";
import { requireAdmin } from "@/lib/auth/session";
import type { AuditFilterValues } from "@/lib/query/keys";
import { makeQueryClient } from "@/lib/query/client";
import { prefetchTeam } from "@/lib/query/prefetch-team";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Activity · Retrace" };

type SearchParams = Promise<Record<string, string | string[] | undefined>>;

function one(value: string | string[] | undefined): string {
  return typeof value === "string" ? value : "";
}

export default async function ActivityPage({ searchParams }: { searchParams: SearchParams }) {
  await requireAdmin();
  const params = await searchParams;
  const filters: AuditFilterValues = { action: one(params.action), actor: one(params.actor) };
  const queryClient = makeQueryClient();
  await prefetchTeam.audit(queryClient, filters);
  return (
    <div className="space-y-6">
      <header>
        <h1 className="text-2xl font-semibold tracking-tight">Activity</h1>
        <p className="mt-1 text-sm text-slate-500">
          What was done in Retrace itself, on the web or the command line: sign-ins (refused ones too), databases
          connected, changed and removed, users and API tokens, reverts, baselines and archive imports — by whom, and
          from where.
        </p>
      </header>
      <HydrationBoundary state={dehydrate(queryClient)}>
        <ActivityLog filters={filters} />
      </HydrationBoundary>
    </div>
  );
}
