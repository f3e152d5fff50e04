import type { Metadata } from "next";
import { DatabaseList } from "@/components/databases/database-list";
import { requireUser } from "@/lib/auth/session";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Databases · Retrace" };

export default async function DatabasesPage() {
  const user = await requireUser();
  return (
    <div className="space-y-6">
      <header>
        <h1 className="text-2xl font-semibold tracking-tight">Databases</h1>
        <p className="mt-1 text-sm text-slate-500">
          PostgreSQL databases Retrace captures changes from, with their streaming status.
        </p>
      </header>
      <DatabaseList canEdit={user.role === "admin"} />
    </div>
  );
}
