/** The table picker's notice of tracked tables that were dropped at the source. */
import { Identifier } from "@/components/ui/identifier";

/** Tracked tables the source no longer has: no longer tracked; saving the list lets them go. */
export function DroppedTables({ dropped }: { dropped: ReadonlyArray<{ schema: string; table: string }> }) {
  return (
    <section
      aria-labelledby="dropped-heading"
      className="rounded-lg border border-amber-200 bg-amber-50 p-4 text-sm text-amber-900"
    >
      <h2 id="dropped-heading" className="font-medium">
        Dropped at the source
      </h2>
      <p className="mt-1">
        These tracked tables no longer exist at the source, so nothing more is captured from them. Their changes so far
        stay in the trail. Saving the list below stops listing them.
      </p>
      <ul className="mt-2 space-y-1">
        {dropped.map((t) => (
          <li key={`${t.schema}.${t.table}`} className="font-mono text-xs wrap-anywhere">
            <Identifier name={`${t.schema}.${t.table}`} /> <span className="font-sans text-amber-800">(dropped)</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
