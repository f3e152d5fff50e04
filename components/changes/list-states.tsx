import Link from "next/link";

export function ListSkeleton() {
  return (
    <div
      aria-busy="true"
      aria-label="Loading changes"
      className="overflow-hidden rounded-lg border border-slate-200 bg-white"
    >
      {Array.from({ length: 6 }, (_, i) => (
        <div
          key={i}
          className="flex animate-pulse items-center gap-4 border-b border-slate-100 px-4 py-4 last:border-0"
        >
          <div className="h-3 w-20 rounded bg-slate-200" />
          <div className="h-4 w-16 rounded-full bg-slate-200" />
          <div className="h-3 w-48 rounded bg-slate-200" />
          <div className="ml-auto h-3 w-16 rounded bg-slate-200" />
        </div>
      ))}
    </div>
  );
}

export function ListError({ message, onRetry }: { message: string; onRetry: () => void }) {
  return (
    <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-6 text-sm text-red-800">
      <p className="font-medium">Could not load changes.</p>
      <p className="mt-1 wrap-anywhere">{message}</p>
      <button type="button" onClick={onRetry} className="mt-3 font-medium underline">
        Try again
      </button>
    </div>
  );
}

export function EmptyState({ filtered, onClearFilters }: { filtered: boolean; onClearFilters: () => void }) {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 bg-white p-10 text-center">
      {filtered ? (
        <>
          <p className="font-medium text-slate-900">No changes match these filters</p>
          <p className="mt-1 text-sm text-slate-500">New matching changes will appear here as they happen.</p>
          <button
            type="button"
            onClick={onClearFilters}
            className="mt-4 text-sm font-medium text-indigo-700 hover:underline"
          >
            Clear filters
          </button>
        </>
      ) : (
        <>
          <p className="font-medium text-slate-900">No changes yet</p>
          <p className="mt-1 text-sm text-slate-500">
            Changes appear here seconds after they are committed in a tracked table.{" "}
            <Link href="/databases/new" className="font-medium text-indigo-700 hover:underline">
              Connect a database
            </Link>{" "}
            to start capturing them.
          </p>
        </>
      )}
    </div>
  );
}
