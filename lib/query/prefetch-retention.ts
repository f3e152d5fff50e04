import "server-only";
import type { QueryClient } from "@tanstack/react-query";
import { getDb } from "../db";
import type { RetentionJson } from "../retention/api-types";
import { readRetention } from "../retention/settings";
import { asFetched } from "./prefetch";
import { retentionQueries } from "./retention";

/** The retention page's first paint, as lib/query/prefetch.ts does it for the others (the page checked the user). */
export const prefetchRetention = {
  /** GET /api/retention */
  settings: (client: QueryClient) =>
    client.prefetchQuery({
      ...retentionQueries.settings(),
      queryFn: async () => asFetched<RetentionJson>(await readRetention(getDb()), "json"),
      retry: false,
    }),
};
