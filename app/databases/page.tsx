import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { DatabaseList } from "@/components/databases/database-list";
import { requireUser } from "@/lib/auth/session";
import { makeQueryClient } from "@/lib/query/client";
import { prefetch } from "@/lib/query/prefetch";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Databases · Retrace" };

export default async function DatabasesPage() {
  const user = await requireUser();
  const queryClient = makeQueryClient();
  await prefetch.databases(queryClient, { slots: "wait" });
  return (
    <div className="space-y-6">
      <header>
        <h1 className="text-2xl font-semibold tracking-tight">Databases</h1>
        <p className="mt-1 text-sm text-slate-500">
          PostgreSQL databases Retrace captures changes from, with their streaming status.
        </p>
      </header>
      <HydrationBoundary state={dehydrate(queryClient)}>
        <DatabaseList canEdit={user.role === "admin"} />
      </HydrationBoundary>
    </div>
  );
}
