import type { Metadata } from "next";
import { RevertTargetForm } from "@/components/reverts/revert-target-form";
import { RevertView } from "@/components/reverts/revert-view";
import { requireUser } from "@/lib/auth/session";
import { toSearchParams } from "@/lib/changes/filters";
import { readRevertTarget } from "@/lib/changes/revert/target";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Revert · Retrace" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/**
 * /reverts?changeId= | ?transactionOf= | ?context=: the revert's SQL and its conflicts, and for admins the
 * Execute button. The plan reads the source's live rows, so it loads in the browser (with its loading state)
 * rather than holding up the page.
 */
export default async function RevertPage({ searchParams }: Props) {
  const user = await requireUser();
  const params = toSearchParams(await searchParams);
  const target = readRevertTarget(params);
  if (!target) return <RevertTargetForm invalid={[...params.keys()].length > 0} />;
  return <RevertView target={target} canExecute={user.role === "admin"} />;
}
