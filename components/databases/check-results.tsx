import { classes } from "@/components/ui/classes";
import type { CheckJson } from "@/lib/sources/api-types";
import { FixText } from "./fix-text";

/** The connect checks, in order, each with ✓/✗, its message and the exact fix. */
export function CheckResults({ checks }: { checks: CheckJson[] }) {
  const failed = checks.filter((c) => !c.ok).length;
  return (
    <div className="space-y-3">
      <p role="status" className={`text-sm font-medium ${failed === 0 ? "text-emerald-700" : "text-red-700"}`}>
        {failed === 0 ? "All checks passed." : `${failed} ${failed === 1 ? "check" : "checks"} failed.`}
      </p>
      <ul aria-label="Connection checks" className="space-y-3">
        {checks.map((check) => (
          <li key={check.id} className="flex gap-3">
            <span
              aria-hidden
              className={classes(
                "mt-0.5 flex h-5 w-5 shrink-0 items-center justify-center rounded-full text-xs font-bold text-white",
                check.ok ? "bg-emerald-500" : "bg-red-500",
              )}
            >
              {check.ok ? "✓" : "✗"}
            </span>
            <div className="min-w-0 flex-1">
              <p className="text-sm font-medium">
                <span className="sr-only">{check.ok ? "Passed: " : "Failed: "}</span>
                {check.label}
              </p>
              <p className="text-sm text-slate-600 wrap-anywhere">{check.message}</p>
              {check.fix ? <FixText text={check.fix} /> : null}
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
