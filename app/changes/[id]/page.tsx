import type { Metadata } from "next";
import { ChangeDetail } from "@/components/changes/change-detail";
import { requireUser } from "@/lib/auth/session";

export const dynamic = "force-dynamic";

type Props = { params: Promise<{ id: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { id } = await params;
  return { title: `Change ${id} · Retrace` };
}

export default async function ChangePage({ params }: Props) {
  await requireUser();
  const { id } = await params;
  return <ChangeDetail id={id} />;
}
