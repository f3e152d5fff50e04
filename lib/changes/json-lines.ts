import { isJsonObject, toJsonText, type JsonValue } from "../api/json";
import { pathKey, type DifferenceKind, type JsonDifference, type JsonPath } from "./json-diff";

/**
 * One line of a JSON document printed two spaces an indent: a key and a value (or the opening bracket of an
 * object or array), or a closing bracket. `mark` says whether the line is part of a difference, and which.
 */
export type JsonLine = {
  depth: number;
  /** The object key in front of the value, none for array items, the top value and closing brackets. */
  key: string | null;
  /** The value's JSON text (numbers exactly as received), an opening bracket, or a closing one. */
  text: string;
  comma: boolean;
  mark: DifferenceKind | null;
  path: JsonPath;
};

/** The differences one side of a diff shows: the before value its removed and changed places, the after value
 * its added and changed ones. */
export function marksFor(
  side: "before" | "after",
  differences: readonly JsonDifference[],
): Map<string, DifferenceKind> {
  const shown = side === "before" ? "removed" : "added";
  const marks = new Map<string, DifferenceKind>();
  for (const { path, kind } of differences) if (kind === "changed" || kind === shown) marks.set(pathKey(path), kind);
  return marks;
}

/** The document as lines, each marked when it lies in a marked place (a marked object marks all its lines). */
export function jsonLines(value: JsonValue, marks: ReadonlyMap<string, DifferenceKind> = new Map()): JsonLine[] {
  const lines: JsonLine[] = [];
  const visit = (
    node: JsonValue,
    path: JsonPath,
    key: string | null,
    comma: boolean,
    inherited: DifferenceKind | null,
  ) => {
    const mark = marks.get(pathKey(path)) ?? inherited;
    const depth = path.length;
    const entries: [string | null, JsonValue, JsonPath][] = Array.isArray(node)
      ? node.map((item, index) => [null, item, [...path, index]])
      : isJsonObject(node)
        ? Object.entries(node).map(([name, item]) => [name, item, [...path, name]])
        : [];
    if (!Array.isArray(node) && !isJsonObject(node)) {
      lines.push({ depth, key, text: toJsonText(node), comma, mark, path });
      return;
    }
    const [open, close] = Array.isArray(node) ? ["[", "]"] : ["{", "}"];
    if (entries.length === 0) {
      lines.push({ depth, key, text: open + close, comma, mark, path });
      return;
    }
    lines.push({ depth, key, text: open, comma: false, mark, path });
    entries.forEach(([name, item, itemPath], index) => visit(item, itemPath, name, index < entries.length - 1, mark));
    lines.push({ depth, key: null, text: close, comma, mark, path });
  };
  visit(value, [], null, false, null);
  return lines;
}

/** A run of lines shown, or one left out of view, by count. */
export type LineRun = { kind: "lines"; lines: JsonLine[] } | { kind: "folded"; count: number };

/**
 * What of a long document to show before "show all": with marked lines, those and `context` lines around each,
 * the unmarked stretches between them folded; without, the first `limit` lines. A document of at most `limit`
 * lines is shown whole, and a fold never hides fewer than 3 lines (its marker would take as much room).
 */
export function foldLines(lines: readonly JsonLine[], limit = 30, context = 2): LineRun[] {
  if (lines.length <= limit) return [{ kind: "lines", lines: [...lines] }];
  const keep = new Array<boolean>(lines.length).fill(false);
  const marked = lines.some((line) => line.mark !== null);
  if (marked) {
    lines.forEach((line, index) => {
      if (line.mark === null) return;
      for (let near = Math.max(0, index - context); near <= Math.min(lines.length - 1, index + context); near += 1) {
        keep[near] = true;
      }
    });
  } else {
    keep.fill(true, 0, limit);
  }
  const runs: LineRun[] = [];
  let index = 0;
  while (index < lines.length) {
    let end = index;
    while (end < lines.length && keep[end] === keep[index]) end += 1;
    const stretch = lines.slice(index, end);
    if (keep[index] || stretch.length < 3) {
      const previous = runs[runs.length - 1];
      if (previous?.kind === "lines") previous.lines.push(...stretch);
      else runs.push({ kind: "lines", lines: stretch });
    } else {
      runs.push({ kind: "folded", count: stretch.length });
    }
    index = end;
  }
  return runs;
}
