import type { Metadata } from "next";
import Link from "next/link";
import { requireUser } from "@/lib/auth/session";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Admins only · Retrace" };

/** Where a viewer lands who opened an admin page (proxy.ts, requireAdmin). */
export default async function ForbiddenPage() {
  const user = await requireUser();
  return (
    <div className="mx-auto max-w-lg rounded-lg border border-amber-200 bg-amber-50 p-6">
      <p className="text-xs font-medium uppercase tracking-wide text-amber-800">403 · Admins only</p>
      <h1 className="mt-1 text-xl font-semibold tracking-tight text-amber-950">This page is for admins</h1>
      <p className="mt-2 text-sm text-amber-900">
        You are signed in as {user.email ?? "a viewer"} with the viewer role: you can browse changes, history and
        databases, but not manage them or the team. Ask an admin if you need more.
      </p>
      <Link href="/changes" className="mt-4 inline-block text-sm font-medium text-indigo-700 hover:underline">
        Go to changes
      </Link>
    </div>
  );
}
