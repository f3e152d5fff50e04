import { Identifier } from "@/components/ui/identifier";
import { toJsonText, type JsonObject, type JsonValue } from "@/lib/api/json";
import { stringLook } from "@/lib/changes/value-text";

/**
 * The application context stitched onto a change (who, which endpoint, which job), one line a key, in the order
 * the application sent them. Text reads as text; numbers keep their digits; anything else is its JSON.
 */
export function ContextPanel({ context }: { context: JsonObject }) {
  const entries = Object.entries(context);
  return (
    <section aria-labelledby="context-heading" className="space-y-2">
      <h2 id="context-heading" className="text-lg font-semibold">
        Context
      </h2>
      {entries.length === 0 ? (
        <p className="text-sm text-slate-500">
          No application context came with this change (it was made outside an instrumented application, or the
          application sent none).
        </p>
      ) : (
        <dl
          data-testid="context"
          className="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white text-sm"
        >
          {entries.map(([key, value]) => (
            <div key={key} className="grid gap-x-4 gap-y-0.5 px-4 py-2 sm:grid-cols-[12rem_minmax(0,1fr)]">
              <dt className="font-mono text-xs font-medium text-slate-600 wrap-anywhere sm:text-sm">
                <Identifier name={key} />
              </dt>
              <dd className="whitespace-pre-wrap text-slate-900 wrap-anywhere">
                <ContextValue value={value} />
              </dd>
            </div>
          ))}
        </dl>
      )}
    </section>
  );
}

function ContextValue({ value }: { value: JsonValue }) {
  if (typeof value !== "string") return <span className="font-mono">{toJsonText(value)}</span>;
  const look = stringLook(value);
  return (
    <>
      {look.text}
      {look.note ? (
        <span className="ml-1.5 rounded bg-slate-100 px-1 text-[10px] uppercase text-slate-500">{look.note}</span>
      ) : null}
    </>
  );
}
