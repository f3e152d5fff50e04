import type { Metadata } from "next";
import { Suspense } from "react";
import { ChangesBrowser } from "@/components/changes/changes-browser";
import { ListSkeleton } from "@/components/changes/change-list";
import { requireUser } from "@/lib/auth/session";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Changes · Retrace" };

export default async function ChangesPage() {
  await requireUser();
  return (
    <div className="space-y-6">
      <header>
        <h1 className="text-2xl font-semibold tracking-tight">Changes</h1>
        <p className="mt-1 text-sm text-slate-500">
          Every insert, update, delete and truncate captured from your databases, newest first.
        </p>
      </header>
      {/* useSearchParams needs a Suspense boundary; the list itself is read on the client. */}
      <Suspense fallback={<ListSkeleton />}>
        <ChangesBrowser />
      </Suspense>
    </div>
  );
}
