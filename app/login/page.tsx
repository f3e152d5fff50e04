import type { Metadata } from "next";
import { getServerSession } from "next-auth";
import { redirect } from "next/navigation";
import { LoginForm } from "@/components/auth/login-form";
import { safeCallbackUrl } from "@/components/auth/callback-url";
import { authOptions } from "@/lib/auth/options";
import { countUsers } from "@/lib/auth/users";
import { getDb } from "@/lib/db";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Sign in · Retrace" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function LoginPage({ searchParams }: Props) {
  if ((await countUsers(getDb())) === 0) redirect("/setup");
  const { callbackUrl } = await searchParams;
  const target = typeof callbackUrl === "string" ? callbackUrl : undefined;
  const session = await getServerSession(authOptions());
  if (session?.user?.id) redirect(safeCallbackUrl(target));
  return <LoginForm callbackUrl={target} />;
}
