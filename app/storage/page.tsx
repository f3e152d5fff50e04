import type { Metadata } from "next";
import { StorageView } from "@/components/storage/storage-view";
import { requireUser } from "@/lib/auth/session";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Storage · Retrace" };

/** The trail's size: measured in the browser (GET /api/storage), so the page paints at once. */
export default async function StoragePage() {
  await requireUser();
  return (
    <div className="space-y-6">
      <header>
        <h1 className="text-2xl font-semibold tracking-tight">Storage</h1>
        <p className="mt-1 max-w-3xl text-sm text-slate-500">
          How much room the audit trail takes in the store, how fast it grows, and what retention frees.
        </p>
      </header>
      <StorageView />
    </div>
  );
}
