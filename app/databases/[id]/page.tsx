import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { DatabaseDetail } from "@/components/databases/database-detail";
import { requireUser } from "@/lib/auth/session";
import { makeQueryClient } from "@/lib/query/client";
import { prefetch } from "@/lib/query/prefetch";
import { baselinesPrefetch } from "@/lib/query/time-travel-prefetch";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Database · Retrace" };

export default async function DatabasePage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const { id } = await params;
  const queryClient = makeQueryClient();
  // The database and its baselines: both sides render the same first paint (no skeleton to swap on hydration).
  await Promise.all([prefetch.database(queryClient, id), baselinesPrefetch(queryClient, id)]);
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <DatabaseDetail id={id} canEdit={user.role === "admin"} />
    </HydrationBoundary>
  );
}
