import type { Metadata } from "next";
import { TablePicker } from "@/components/databases/table-picker";
import { requireUser } from "@/lib/auth/session";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Tracked tables · Retrace" };

export default async function DatabaseTablesPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const { id } = await params;
  return <TablePicker id={id} canEdit={user.role === "admin"} />;
}
