import { ApiError } from "@/lib/api-client";
import type { FilterValues, OperationName } from "@/lib/changes/filters";
import { parseJson, type JsonObject } from "@/lib/changes/lossless-json";

/** A change as the browser holds it: row images parsed without losing a digit. */
export type ChangeView = {
  id: string;
  sourceId: string;
  environment: string;
  database: string;
  schema: string;
  table: string;
  primaryKey: string | null;
  operation: OperationName;
  before: JsonObject | null;
  after: JsonObject | null;
  changedFields: string[] | null;
  context: JsonObject;
  transactionId: string;
  commitLsn: string;
  committedAt: string;
  createdAt: string;
};

export type ChangesPage = { changes: ChangeView[]; nextCursor: string | null };
export type ChangeDetailView = { change: ChangeView; transaction: ChangeView[]; transactionTruncated: boolean };

/**
 * GET from the changes API. The body is read as text and parsed losslessly (int8 and numeric
 * values in row images would be rounded by response.json()).
 */
async function getLossless<T>(path: string, signal?: AbortSignal): Promise<T> {
  const response = await fetch(path, { signal, headers: { accept: "application/json" } });
  const text = await response.text();
  if (!response.ok) {
    let error: { code?: string; message?: string; details?: unknown } | undefined;
    try {
      error = (JSON.parse(text) as { error?: typeof error }).error;
    } catch {
      error = undefined;
    }
    throw new ApiError(
      response.status,
      error?.code ?? "http_error",
      error?.message ?? `Request failed with status ${response.status}`,
      error?.details,
    );
  }
  // The shapes are this API's own (lib/changes/queries.ts); parsing is the validation that matters here.
  return parseJson(text) as unknown as T;
}

export function fetchChanges(
  filters: FilterValues,
  cursor: string | undefined,
  signal?: AbortSignal,
): Promise<ChangesPage> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
  if (cursor) params.set("cursor", cursor);
  params.set("limit", "50");
  return getLossless<ChangesPage>(`/api/changes?${params}`, signal);
}

export function fetchChange(id: string, signal?: AbortSignal): Promise<ChangeDetailView> {
  return getLossless<ChangeDetailView>(`/api/changes/${encodeURIComponent(id)}`, signal);
}
