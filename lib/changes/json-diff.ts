import diff from "microdiff";
import { isJsonObject, LosslessNumber, type JsonObject, type JsonValue } from "../api/json";

/** Where a place inside a JSON document is: object keys and array indexes from the top. */
export type JsonPath = readonly (string | number)[];

/** How a place differs: only in the after value, only in the before value, or in both with other values. */
export type DifferenceKind = "added" | "removed" | "changed";

export type JsonDifference = { path: JsonPath; kind: DifferenceKind };

const KIND = { CREATE: "added", REMOVE: "removed", CHANGE: "changed" } as const;

/**
 * A copy microdiff can walk without surprises: objects get no prototype, so a key such as "constructor" or
 * "toString" is present only when the document has it (microdiff asks with `in`).
 */
function walkable(value: JsonValue): unknown {
  if (Array.isArray(value)) return value.map(walkable);
  if (!isJsonObject(value)) return value;
  const copy = Object.create(null) as Record<string, unknown>;
  for (const [key, item] of Object.entries(value)) copy[key] = walkable(item);
  return copy;
}

/** The path cut at the first number: microdiff sees a LosslessNumber as an object and reports its inner field. */
function toNode(root: JsonValue, path: JsonPath): JsonPath {
  let node: JsonValue | undefined = root;
  for (let depth = 0; depth < path.length; depth += 1) {
    if (node instanceof LosslessNumber) return path.slice(0, depth);
    const step: string | number | undefined = path[depth];
    if (Array.isArray(node) && typeof step === "number") node = node[step];
    else if (isJsonObject(node) && typeof step === "string" && Object.hasOwn(node, step)) node = node[step];
    else return path;
  }
  return path;
}

/**
 * The places where two JSON documents (json/jsonb column values) differ, each named by its path: a key added,
 * removed, or holding another value (a number by its exact text: 1.0 is not 1). Arrays compare index by index.
 * Two values that are not both objects or both arrays differ as a whole (path []).
 */
export function jsonDifferences(before: JsonValue, after: JsonValue): JsonDifference[] {
  const bothObjects = isJsonObject(before) && isJsonObject(after);
  const bothArrays = Array.isArray(before) && Array.isArray(after);
  if (!bothObjects && !bothArrays) return sameJson(before, after) ? [] : [{ path: [], kind: "changed" }];
  const found = diff(walkable(before) as JsonObject, walkable(after) as JsonObject, { cyclesFix: false });
  const seen = new Set<string>();
  const differences: JsonDifference[] = [];
  for (const difference of found) {
    const path = toNode(difference.type === "CREATE" ? after : before, difference.path);
    const kind = path.length < difference.path.length ? "changed" : KIND[difference.type];
    const key = pathKey(path);
    if (seen.has(key)) continue;
    seen.add(key);
    differences.push({ path, kind });
  }
  return differences;
}

function sameJson(a: JsonValue, b: JsonValue): boolean {
  if (a instanceof LosslessNumber || b instanceof LosslessNumber) {
    return a instanceof LosslessNumber && b instanceof LosslessNumber && a.value === b.value;
  }
  return Object.is(a, b);
}

/** A path as one string, for sets and maps. */
export function pathKey(path: JsonPath): string {
  return JSON.stringify(path);
}
