import type { BenchServers } from "./servers";

/** One timed request: its path (computed once, before timing: a cursor 39 pages deep, a live token) and rows. */
export type BrowseQuery = { name: string; path: () => Promise<string>; rows: (body: string) => number };

const listRows = (body: string) => (JSON.parse(body) as { changes: unknown[] }).changes.length;
const context = (value: object) => encodeURIComponent(JSON.stringify(value));

/**
 * Every filter of the change list alone and in combinations, empty results, deep pages, the live tail, activity,
 * a record's history, type-ahead and environments. Times and keys come from what the store holds.
 */
export function browseQueries(servers: BenchServers, base: string, token: string, sourceIds: string[]): BrowseQuery[] {
  const headers = { authorization: `Bearer ${token}` };
  const fetchJson = async (path: string) => (await (await fetch(`${base}${path}`, { headers })).json()) as never;
  let range: { from: Date; to: Date } | null = null;
  const commitRange = async () => {
    if (!range) {
      const { rows } = await servers.storePool.query<{ from: Date; to: Date }>(
        'select min(min_at) as "from", max(max_at) as "to" from change_segments',
      );
      range = { from: rows[0]?.from ?? new Date(), to: rows[0]?.to ?? new Date() };
    }
    return range;
  };
  /** A window of `share` of the commit-time range, in its middle. */
  const window = async (share: number) => {
    const { from, to } = await commitRange();
    const span = to.getTime() - from.getTime();
    const start = new Date(from.getTime() + span * (0.5 - share / 2));
    return `from=${start.toISOString()}&to=${new Date(start.getTime() + span * share).toISOString()}`;
  };
  /** The middle of the commit-time range. */
  const middle = async () => {
    const { from, to } = await commitRange();
    return new Date((from.getTime() + to.getTime()) / 2).toISOString();
  };
  const tablePageAsOf = (name: string, table: string): BrowseQuery => ({
    name,
    path: async () => `/api/tables/as-of?table=${table}&database=shop_prod&at=${await middle()}&limit=50`,
    rows: (body) => (JSON.parse(body) as { rows: unknown[] }).rows.length,
  });
  const deep = async (query: string) => {
    let cursor = "";
    for (let page = 1; page < 40; page++) {
      const body = await fetchJson(`/api/changes?${query}&limit=50${cursor ? `&cursor=${cursor}` : ""}`);
      cursor = (body as { nextCursor: string }).nextCursor;
    }
    return `/api/changes?${query}&limit=50&cursor=${cursor}`;
  };
  const live = async (query: string) => {
    const body = await fetchJson(`/api/changes?${query}&limit=50`);
    return `/api/changes/live?${query}&token=${(body as { liveToken: string }).liveToken}`;
  };
  const list = (name: string, query: string): BrowseQuery => ({
    name,
    path: async () => `/api/changes?${query}`,
    rows: listRows,
  });
  const [production = "", , test = ""] = sourceIds;
  return [
    list("newest page, no filter", "limit=50"),
    list("operation TRUNCATE (the rarest)", "operation=TRUNCATE"),
    list("operation DELETE", "operation=DELETE"),
    list("operation CREATE,UPDATE", "operation=CREATE,UPDATE"),
    list("table t20 (the rarest)", "table=t20"),
    list("table T01 (the busiest, any case)", "table=T01"),
    list("table public.t10", "table=public.t10"),
    list("primary key", "primaryKey=12345"),
    list("primary key and table", "primaryKey=12345&table=t01"),
    list("environment staging", "environment=staging"),
    list("database shop_test", "database=shop_test"),
    list("source (production)", `sourceId=${production}`),
    list("context user_id 42", `context=${context({ user_id: 42 })}`),
    list("context and environment", `context=${context({ user_id: 42 })}&environment=test`),
    { name: "time window (1% of the range)", path: async () => `/api/changes?${await window(0.01)}`, rows: listRows },
    {
      name: "time window and table t05",
      path: async () => `/api/changes?${await window(0.05)}&table=t05`,
      rows: listRows,
    },
    list("changed field amount", "field=amount"),
    list("field status, table t03, production", "field=status&table=t03&environment=production"),
    list("DELETE in t15 of staging", "operation=DELETE&table=t15&environment=staging"),
    list("TRUNCATE of staging", "operation=TRUNCATE&environment=staging"),
    list("empty: no such table", "table=nosuch"),
    list("empty: TRUNCATE in production", "operation=TRUNCATE&environment=production"),
    list("empty: context user_id 100000", `context=${context({ user_id: 100000 })}`),
    list("empty: no such field", "field=nosuch"),
    list("empty: a time range in the future", "from=2999-01-01T00:00:00Z"),
    { name: "page 40, no filter", path: () => deep(""), rows: listRows },
    { name: "page 40, environment staging", path: () => deep("environment=staging"), rows: listRows },
    { name: "page 40, field amount", path: () => deep("field=amount"), rows: listRows },
    { name: "page 40, table t10", path: () => deep("table=t10"), rows: listRows },
    { name: "live tail (nothing new)", path: () => live(""), rows: listRows },
    { name: "live tail, environment test", path: () => live(`sourceId=${test}`), rows: listRows },
    {
      name: "activity, last 24 h",
      path: async () => "/api/changes/activity",
      rows: (body) => (JSON.parse(body) as { buckets: unknown[] }).buckets.length,
    },
    {
      name: "activity, table t01 over the whole range",
      path: async () => {
        const { from, to } = await commitRange();
        const end = new Date(to.getTime() + 60_000).toISOString();
        return `/api/changes/activity?table=t01&from=${from.toISOString()}&to=${end}`;
      },
      rows: (body) => (JSON.parse(body) as { buckets: unknown[] }).buckets.length,
    },
    {
      name: "record history",
      path: async () => "/api/records/history?table=t01&primaryKey=1000&database=shop_prod",
      rows: listRows,
    },
    {
      name: "a row as of the range's middle",
      path: async () => `/api/records/as-of?table=t01&primaryKey=1000&database=shop_prod&at=${await middle()}`,
      rows: (body) => ((JSON.parse(body) as { row: unknown }).row === null ? 0 : 1),
    },
    tablePageAsOf("table t20 as of the range's middle, a page", "t20"),
    // Reads each of the busiest table's changes up to then (~450k at 10M): what a page of a big table costs.
    tablePageAsOf("table T01 (the busiest) as of the range's middle, a page", "t01"),
    {
      name: "type-ahead",
      path: async () => "/api/trail/tables?q=t0",
      rows: (body) => (JSON.parse(body) as { tables: unknown[] }).tables.length,
    },
    {
      name: "environments",
      path: async () => "/api/environments",
      rows: (body) => (JSON.parse(body) as { environments: unknown[] }).environments.length,
    },
  ];
}
