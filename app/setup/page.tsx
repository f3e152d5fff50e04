import type { Metadata } from "next";
import { redirect } from "next/navigation";
import { SetupForm } from "@/components/auth/setup-form";
import { countUsers } from "@/lib/auth/users";
import { getDb } from "@/lib/db";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Set up · Retrace" };

export default async function SetupPage() {
  if ((await countUsers(getDb())) > 0) redirect("/login");
  return <SetupForm />;
}
