import { classes } from "@/components/ui/classes";
import type { OperationName } from "@/lib/changes/filters";

export const OPERATION_LABELS: Record<OperationName, string> = {
  CREATE: "Create",
  UPDATE: "Update",
  DELETE: "Delete",
  TRUNCATE: "Truncate",
};

const STYLES: Record<OperationName, string> = {
  CREATE: "bg-emerald-50 text-emerald-800 ring-emerald-200",
  UPDATE: "bg-sky-50 text-sky-800 ring-sky-200",
  DELETE: "bg-red-50 text-red-800 ring-red-200",
  TRUNCATE: "bg-purple-50 text-purple-800 ring-purple-200",
};

export function OperationBadge({ operation }: { operation: OperationName }) {
  return (
    <span
      className={classes(
        "inline-flex w-20 shrink-0 justify-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset",
        STYLES[operation],
      )}
    >
      {OPERATION_LABELS[operation]}
    </span>
  );
}
