import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { Panel } from "@/components/team/states";
import { UserForm } from "@/components/team/user-form";
import { UserList } from "@/components/team/user-list";
import { requireAdmin } from "@/lib/auth/session";
import { makeQueryClient } from "@/lib/query/client";
import { prefetchTeam } from "@/lib/query/prefetch-team";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Users · Retrace" };

export default async function UsersPage() {
  await requireAdmin();
  const queryClient = makeQueryClient();
  await prefetchTeam.users(queryClient);
  return (
    <div className="space-y-6">
      <header>
        <h1 className="text-2xl font-semibold tracking-tight">Users</h1>
        <p className="mt-1 text-sm text-slate-500">
          Admins connect and change databases and manage the team; viewers browse changes and history.
        </p>
      </header>
      <Panel title="Add a user">
        <UserForm />
      </Panel>
      <HydrationBoundary state={dehydrate(queryClient)}>
        <UserList />
      </HydrationBoundary>
    </div>
  );
}
