import { toJsonText, type JsonObject, type JsonValue } from "../api/json";
import type { ChangeJson } from "./api-types";

/** One column of a change's diff: its value in each image (undefined: not in it) and what is known of it. */
export type DiffRow = {
  column: string;
  before: JsonValue | undefined;
  after: JsonValue | undefined;
  /** An UPDATE that gave it another value (as the worker recorded it, or as the images show). */
  changed: boolean;
  /** The value is the JSON literal null of a json/jsonb column, not SQL NULL. */
  beforeJsonNull: boolean;
  afterJsonNull: boolean;
  /** The WAL did not carry its value (an unchanged TOASTed value, an unpublished generated column). */
  unavailable: boolean;
};

/**
 * The columns of both images in the table's order. Each image lists its columns in that order, and either may
 * lack some (after: an unchanged TOASTed value; before: none recorded); a column only one image has goes right
 * after the column it follows there. Columns no image carries (unavailable) come last.
 */
export function columnOrder(before: JsonObject | null, after: JsonObject | null, extra: readonly string[] = []) {
  const order = Object.keys(before ?? {});
  const placed = new Set(order);
  let previous: string | null = null;
  for (const column of Object.keys(after ?? {})) {
    if (!placed.has(column)) {
      order.splice(previous === null ? 0 : order.indexOf(previous) + 1, 0, column);
      placed.add(column);
    }
    previous = column;
  }
  for (const column of extra) {
    if (!placed.has(column)) {
      order.push(column);
      placed.add(column);
    }
  }
  return order;
}

const valueIn = (image: JsonObject | null, column: string) =>
  image && Object.hasOwn(image, column) ? image[column] : undefined;

/** Before and after of every column, changed ones flagged (UPDATE only: a CREATE or DELETE has one image). */
export function diffRows(change: ChangeJson): DiffRow[] {
  const { before, after } = change;
  const declared = new Set(change.changedFields ?? []);
  const unavailable = new Set(change.unavailableFields ?? []);
  const beforeJsonNulls = new Set(change.beforeJsonNullFields ?? []);
  const afterJsonNulls = new Set(change.afterJsonNullFields ?? []);
  return columnOrder(before, after, change.unavailableFields ?? []).map((column) => {
    const row: DiffRow = {
      column,
      before: valueIn(before, column),
      after: valueIn(after, column),
      changed: false,
      beforeJsonNull: beforeJsonNulls.has(column),
      afterJsonNull: afterJsonNulls.has(column),
      unavailable: unavailable.has(column),
    };
    row.changed = change.operation === "UPDATE" && (declared.has(column) || imagesDiffer(change, row));
    return row;
  });
}

/** Both images hold the column with other values (a value the WAL did not carry is not a change). */
function imagesDiffer(change: ChangeJson, row: DiffRow): boolean {
  if (!change.before || !change.after || row.unavailable) return false;
  if (row.before === undefined || row.after === undefined) return row.before !== row.after;
  if (row.beforeJsonNull !== row.afterJsonNull) return true;
  return toJsonText(row.before) !== toJsonText(row.after);
}

/** The fewest unchanged columns that fold. */
const MIN_FOLDED = 2;

/** A run of the diff shown, or unchanged columns folded away (only an UPDATE folds). */
export type DiffRun = { kind: "rows"; rows: DiffRow[] } | { kind: "unchanged"; rows: DiffRow[] };

/**
 * The rows of an UPDATE with its unchanged columns grouped into runs that fold, the changed ones always shown. A
 * lone unchanged column between changed ones is shown: its fold would take as much room. Other operations have
 * nothing changed to single out: their rows are one run.
 */
export function diffRuns(operation: ChangeJson["operation"], rows: readonly DiffRow[]): DiffRun[] {
  if (operation !== "UPDATE") return [{ kind: "rows", rows: [...rows] }];
  const grouped: DiffRun[] = [];
  for (const row of rows) {
    const kind = row.changed ? "rows" : "unchanged";
    const last = grouped[grouped.length - 1];
    if (last?.kind === kind) last.rows.push(row);
    else grouped.push({ kind, rows: [row] });
  }
  const runs: DiffRun[] = [];
  for (const run of grouped) {
    const shown = run.kind === "rows" || run.rows.length < MIN_FOLDED;
    const last = runs[runs.length - 1];
    if (shown && last?.kind === "rows") last.rows.push(...run.rows);
    else runs.push(shown ? { kind: "rows", rows: run.rows } : run);
  }
  return runs;
}
