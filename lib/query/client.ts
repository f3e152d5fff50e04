import { QueryClient } from "@tanstack/react-query";
import { parseJson, toJsonText, type JsonValue } from "../api/json";

/**
 * A QueryClient for the browser (one per page load) or for a server render (one per request). Data a server
 * component prefetched crosses to the browser as JSON text written and read losslessly, so the browser holds
 * exactly what its own fetch would have produced (apiFetch): same shape, same digits.
 */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: { staleTime: 5_000, retry: 1 },
      dehydrate: { serializeData: (data: JsonValue) => toJsonText(data) },
      hydrate: { deserializeData: (text: string) => parseJson(text) },
    },
  });
}
