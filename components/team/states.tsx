import type { ReactNode } from "react";

export function ListLoading({ label }: { label: string }) {
  return (
    <div role="status" aria-live="polite" className="space-y-2">
      <span className="sr-only">{label}</span>
      {[0, 1, 2].map((i) => (
        <div key={i} className="h-12 animate-pulse rounded-md bg-slate-200/70" aria-hidden />
      ))}
    </div>
  );
}

export function ListError({ what, message, retry }: { what: string; message?: string; retry: () => void }) {
  return (
    <div role="alert" className="rounded-lg border border-red-200 bg-red-50 p-6 text-sm text-red-800">
      <p className="font-medium">Could not load {what}.</p>
      {message ? <p className="mt-1">{message}</p> : null}
      <button type="button" onClick={retry} className="mt-3 font-medium underline">
        Try again
      </button>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="rounded-lg border border-dashed border-slate-300 bg-white px-6 py-10 text-center">
      <h2 className="text-base font-semibold">{title}</h2>
      {children ? <div className="mx-auto mt-1 max-w-md text-sm text-slate-500">{children}</div> : null}
    </div>
  );
}

const roleStyles = {
  admin: "bg-indigo-50 text-indigo-700 ring-indigo-200",
  viewer: "bg-slate-50 text-slate-700 ring-slate-200",
};

export function RoleBadge({ role, readOnlyLabel = "viewer" }: { role: "admin" | "viewer"; readOnlyLabel?: string }) {
  return (
    <span className={`inline-flex rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${roleStyles[role]}`}>
      {role === "admin" ? "admin" : readOnlyLabel}
    </span>
  );
}

export function Panel({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm sm:p-6">
      <h2 className="text-base font-semibold">{title}</h2>
      <div className="mt-4">{children}</div>
    </section>
  );
}
