import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { TablePicker } from "@/components/databases/table-picker";
import { requireUser } from "@/lib/auth/session";
import { makeQueryClient } from "@/lib/query/client";
import { prefetch } from "@/lib/query/prefetch";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Tracked tables · Retrace" };

export default async function DatabaseTablesPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const { id } = await params;
  // The heading's database comes from the store. The tables are read live from the source's catalog, which can
  // be slow or unreachable: the browser fetches them, so the page never waits on the source.
  const queryClient = makeQueryClient();
  await prefetch.database(queryClient, id);
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <TablePicker id={id} canEdit={user.role === "admin"} />
    </HydrationBoundary>
  );
}
