import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { ChangesBrowser } from "@/components/changes/changes-browser";
import { requireUser } from "@/lib/auth/session";
import { readFilters, toSearchParams } from "@/lib/changes/filters";
import { makeQueryClient } from "@/lib/query/client";
import { prefetch } from "@/lib/query/prefetch";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Changes · Retrace" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function ChangesPage({ searchParams }: Props) {
  await requireUser();
  const queryClient = makeQueryClient();
  // The databases too: the list's capture health renders with it.
  await Promise.all([
    prefetch.changes(queryClient, readFilters(toSearchParams(await searchParams))),
    prefetch.databases(queryClient),
  ]);
  return (
    <div className="space-y-6">
      <header>
        <h1 className="text-2xl font-semibold tracking-tight">Changes</h1>
        <p className="mt-1 text-sm text-slate-500">
          Every insert, update, delete and truncate captured from your databases, newest first.
        </p>
      </header>
      {/*
        No Suspense boundary around it: its fallback would be what the HTML shows first (a dynamic page renders
        useSearchParams on the server), and the list is already here.
      */}
      <HydrationBoundary state={dehydrate(queryClient)}>
        <ChangesBrowser />
      </HydrationBoundary>
    </div>
  );
}
