import { dehydrate, HydrationBoundary } from "@tanstack/react-query";
import type { Metadata } from "next";
import { ZodError } from "zod";
import { RecordHistory } from "@/components/records/record-history";
import { requireUser } from "@/lib/auth/session";
import { toSearchParams } from "@/lib/changes/filters";
import type { RecordKey } from "@/lib/changes/history-key";
import { parseHistoryParams } from "@/lib/changes/params";
import { Invalid } from "@/lib/errors";
import { makeQueryClient } from "@/lib/query/client";
import { prefetch } from "@/lib/query/prefetch";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Record history · Retrace" };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/**
 * /records?database=&table=&primaryKey=&sourceId=: every change of one row, newest first (the parameters of
 * GET /api/records/history, which a change's "History of this row" fills in).
 */
export default async function RecordPage({ searchParams }: Props) {
  await requireUser();
  let key: RecordKey;
  try {
    key = parseHistoryParams(toSearchParams(await searchParams)).record;
  } catch (error) {
    // A parameter given twice or holding a NUL character is an Invalid, the rest a ZodError: both say which.
    if (error instanceof Invalid) return <NoRecord problems={[error.message]} />;
    if (!(error instanceof ZodError)) throw error;
    const problems = error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    return <NoRecord problems={problems} />;
  }
  const queryClient = makeQueryClient();
  const params = await searchParams;
  const at = typeof params.at === "string" && params.at !== "" ? params.at : null;
  await Promise.all([
    prefetch.history(queryClient, key),
    prefetch.databases(queryClient),
    at ? prefetch.recordAsOf(queryClient, key, at) : null,
  ]);
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <RecordHistory recordKey={key} />
    </HydrationBoundary>
  );
}

function NoRecord({ problems }: { problems: string[] }) {
  return (
    <div role="alert" className="rounded-lg border border-slate-200 bg-white p-8 text-center">
      <p className="font-medium">Which row?</p>
      <p className="mt-1 text-sm text-slate-500">
        A record&apos;s history needs its table and its primary key, and may name its database or source:
        /records?database=shop&amp;table=public.items&amp;primaryKey=42. Open a change and choose &ldquo;History of this
        row&rdquo;.
      </p>
      <ul className="mt-3 text-sm text-red-700">
        {problems.map((problem) => (
          <li key={problem}>{problem}</li>
        ))}
      </ul>
    </div>
  );
}
