import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { ChangeDetail } from "@/components/changes/change-detail";
import { requireUser } from "@/lib/auth/session";
import { makeQueryClient } from "@/lib/query/client";
import { prefetch } from "@/lib/query/prefetch";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ id: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  return { title: `Change ${id} · Retrace` };
}

export default async function ChangePage({ params }: Props) {
  await requireUser();
  const { id } = await params;
  const queryClient = makeQueryClient();
  // The databases too: the capture health of the change's source renders with it.
  await Promise.all([prefetch.change(queryClient, id), prefetch.databases(queryClient)]);
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <ChangeDetail id={id} />
    </HydrationBoundary>
  );
}
