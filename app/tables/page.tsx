import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { TableAsOfView } from "@/components/time-travel/table-as-of";
import { requireUser } from "@/lib/auth/session";
import { parseIsoTime } from "@/lib/changes/time";
import { makeQueryClient } from "@/lib/query/client";
import { prefetch } from "@/lib/query/prefetch";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Table as of · Retrace" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

const one = (value: string | string[] | undefined) => (typeof value === "string" && value.trim() ? value : undefined);

/** /tables?database=&table=&at=&sourceId=: a table as it was at a moment (GET /api/tables/as-of, page by page). */
export default async function TablesPage({ searchParams }: Props) {
  await requireUser();
  const params = await searchParams;
  const table = one(params.table);
  const typedAt = one(params.at);
  const at = typedAt ? parseIsoTime(typedAt) : null;
  const ref = table ? { table, database: one(params.database), sourceId: one(params.sourceId) } : null;
  const queryClient = makeQueryClient();
  if (ref && at) await prefetch.tableAsOf(queryClient, ref, at);
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <TableAsOfView tableRef={ref} at={at} />
    </HydrationBoundary>
  );
}
