import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { TokenList } from "@/components/team/token-list";
import { TokenCreator } from "@/components/team/token-manager";
import { requireAdmin } from "@/lib/auth/session";
import { makeQueryClient } from "@/lib/query/client";
import { prefetchTeam } from "@/lib/query/prefetch-team";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "API tokens · Retrace" };

export default async function TokensPage() {
  await requireAdmin();
  const queryClient = makeQueryClient();
  await prefetchTeam.tokens(queryClient);
  return (
    <div className="space-y-6">
      <header>
        <h1 className="text-2xl font-semibold tracking-tight">API tokens</h1>
        <p className="mt-1 text-sm text-slate-500">
          Tokens let scripts call the JSON API. A read-only token browses like a viewer; an admin token may also
          connect, change and remove databases.
        </p>
      </header>
      <TokenCreator />
      <HydrationBoundary state={dehydrate(queryClient)}>
        <TokenList />
      </HydrationBoundary>
    </div>
  );
}
