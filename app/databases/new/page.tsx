import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import Link from "next/link";
import { ConnectForm } from "@/components/databases/connect-form";
import { requireUser } from "@/lib/auth/session";
import { makeQueryClient } from "@/lib/query/client";
import { prefetch } from "@/lib/query/prefetch";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Connect PostgreSQL Database · Retrace" };

export default async function NewDatabasePage() {
  const user = await requireUser();
  const queryClient = makeQueryClient();
  if (user.role === "admin") await prefetch.roleSql(queryClient, "");
  return (
    <div className="space-y-6">
      <header>
        <p className="text-sm text-slate-500">
          <Link href="/databases" className="hover:underline">
            Databases
          </Link>
        </p>
        <h1 className="mt-1 text-2xl font-semibold tracking-tight">Connect PostgreSQL Database</h1>
        <p className="mt-1 text-sm text-slate-500">
          Retrace reads changes through logical replication (wal_level = logical) with a user that has the REPLICATION
          privilege.
        </p>
      </header>
      {user.role === "admin" ? (
        <HydrationBoundary state={dehydrate(queryClient)}>
          <ConnectForm />
        </HydrationBoundary>
      ) : (
        <p role="alert" className="rounded-md border border-amber-200 bg-amber-50 px-4 py-3 text-sm text-amber-900">
          Only admins can connect databases.
        </p>
      )}
    </div>
  );
}
