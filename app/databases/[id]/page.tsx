import type { Metadata } from "next";
import { DatabaseDetail } from "@/components/databases/database-detail";
import { requireUser } from "@/lib/auth/session";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Database · Retrace" };

export default async function DatabasePage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const { id } = await params;
  return <DatabaseDetail id={id} canEdit={user.role === "admin"} />;
}
