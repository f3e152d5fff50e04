/**
 * Names shared by the API and the browser, free of server imports so client components can
 * use them. The filter keys are also the URL search parameter names of /changes and
 * GET /api/changes, so a view's URL is its query.
 */
export const OPERATIONS = ["CREATE", "UPDATE", "DELETE", "TRUNCATE"] as const;
export type OperationName = (typeof OPERATIONS)[number];

/**
 * `operation`: comma-separated operations; `from` (inclusive) and `to` (exclusive): ISO-8601 times on the source
 * commit time; `context`: a JSON object the change's context contains; `field`: a column an update changed.
 */
export const FILTER_KEYS = [
  "operation",
  "table",
  "primaryKey",
  "environment",
  "database",
  "sourceId",
  "from",
  "to",
  "context",
  "field",
] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
export type FilterValues = Partial<Record<FilterKey, string>>;

/** A page's `searchParams` prop as URLSearchParams: `get` then reads it as useSearchParams does in the browser. */
export function toSearchParams(record: Record<string, string | string[] | undefined>): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(record)) {
    for (const item of Array.isArray(value) ? value : value === undefined ? [] : [value]) params.append(key, item);
  }
  return params;
}

/** The filters present (non-empty) in a set of search parameters, in a stable shape. */
export function readFilters(params: { get(name: string): string | null }): FilterValues {
  const filters: FilterValues = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value) filters[key] = value;
  }
  return filters;
}

/**
 * The sources whose changes a filtered view can show: the environment, database and source filters narrow the
 * sources as they narrow the changes (lib/changes/scope.ts); the others pick changes within them.
 */
export function sourcesInView<S extends { id: string; environment: string; database: string }>(
  sources: readonly S[],
  filters: FilterValues,
): S[] {
  return sources.filter(
    (source) =>
      (!filters.environment || source.environment === filters.environment) &&
      (!filters.database || source.database === filters.database) &&
      (!filters.sourceId || source.id === filters.sourceId.toLowerCase()),
  );
}
