import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import Link from "next/link";
import { HoldsSection } from "@/components/retention/holds";
import { RetentionSettingsView } from "@/components/retention/retention-editor";
import { requireUser } from "@/lib/auth/session";
import { makeQueryClient } from "@/lib/query/client";
import { prefetchRetention } from "@/lib/query/prefetch-retention";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Retention · Retrace" };

/** How long the trail keeps changes. Admins change it, viewers read it (lib/auth/pages.ts). */
export default async function RetentionPage() {
  const user = await requireUser();
  const queryClient = makeQueryClient();
  await prefetchRetention.settings(queryClient);
  return (
    <div className="space-y-6">
      <header>
        <h1 className="text-2xl font-semibold tracking-tight">Retention</h1>
        <p className="mt-1 max-w-3xl text-sm text-slate-500">
          How long the trail keeps changes, per environment and per table. The trail is stored in partitions (a span of
          time of one database); the worker drops a partition whole once its newest change has expired, archiving it
          first if asked. With no rule, changes are kept forever; a hold keeps a span of a database whatever the rules
          say. See the sizes on the{" "}
          <Link href="/storage" className="font-medium text-indigo-700 hover:underline">
            Storage
          </Link>{" "}
          page.
        </p>
      </header>
      <HydrationBoundary state={dehydrate(queryClient)}>
        <RetentionSettingsView canEdit={user.role === "admin"} />
        <HoldsSection canEdit={user.role === "admin"} />
      </HydrationBoundary>
    </div>
  );
}
