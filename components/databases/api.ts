"use client";

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { apiFetch } from "@/lib/api/client";
import { databasePath as base, databaseQueries } from "@/lib/query/databases";
import { queryKeys } from "@/lib/query/keys";
import type { ColumnRules } from "@/lib/sources/column-rules";
import type {
  CheckJson,
  CheckResponse,
  ColumnRulesResponse,
  DatabaseDetailResponse,
  DatabaseResponse,
  RemoveDatabaseResponse,
  SourceTablesResponse,
  TrackedTablesResponse,
} from "@/lib/sources/api-types";

export type ConnectionFields = {
  host: string;
  port: string;
  database: string;
  username: string;
  password: string;
  sslMode: string;
  /** PEM of the CA verify-full trusts; empty: the CAs Node trusts. */
  sslRootCert: string;
  /** A kind from lib/sources/host-kind.ts; null: detected. */
  hostKind: string | null;
};

/** What Check connection / Verify sends: `readTables` are the read-only role's tables, checked for SELECT. */
export type CheckFields = ConnectionFields & { readTables?: string[] };

export type ConnectFields = ConnectionFields & { environment: string; name: string };

export function useDatabases() {
  return useQuery(databaseQueries.list());
}

export function useDatabase(id: string) {
  return useQuery(databaseQueries.detail(id));
}

export function useSourceTables(id: string) {
  return useQuery(databaseQueries.tables(id));
}

/**
 * The dedicated role's SQL for the database name as it is typed, built on the server (identifiers quoted by pg);
 * the previous name's stays on screen meanwhile.
 */
export function useRoleSql(database: string, hostKind = "", tables = "") {
  return useQuery({ ...databaseQueries.roleSql(database, hostKind, tables), placeholderData: keepPreviousData });
}

export function useCheckConnection() {
  return useMutation({
    mutationFn: (fields: CheckFields) =>
      apiFetch<CheckResponse>("/api/databases/check", { method: "POST", body: JSON.stringify(fields) }),
  });
}

export function useConnectDatabase() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (fields: ConnectFields) =>
      apiFetch<DatabaseResponse>("/api/databases", { method: "POST", body: JSON.stringify(fields) }),
    onSuccess: async ({ database }) => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.databases.list() });
      queryClient.setQueryData<DatabaseDetailResponse>(queryKeys.databases.detail(database.id), {
        database,
        tables: [],
        seals: { sealedUpTo: null, completing: 0 },
      });
    },
  });
}

export function useSetEnabled() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) =>
      apiFetch<DatabaseResponse>(base(id), { method: "PATCH", body: JSON.stringify({ enabled }) }),
    onSuccess: async ({ database }) => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.databases.list() }),
        queryClient.invalidateQueries({ queryKey: queryKeys.databases.detail(database.id) }),
      ]);
    },
  });
}

/** The settings the edit form sends; a password left empty is left out (it stays as it is). */
export type SettingsFields = {
  name: string;
  host: string;
  port: string;
  database: string;
  username: string;
  password?: string;
  sslMode: string;
};

export function useUpdateDatabase(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (fields: SettingsFields) =>
      apiFetch<DatabaseResponse>(base(id), { method: "PATCH", body: JSON.stringify(fields) }),
    onSuccess: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.databases.list() }),
        queryClient.invalidateQueries({ queryKey: queryKeys.databases.detail(id) }),
      ]);
    },
  });
}

export function useRemoveDatabase() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ id, force = false, changes }: { id: string; force?: boolean; changes: "keep" | "delete" }) => {
      const params = new URLSearchParams({ changes });
      if (force) params.set("force", "true");
      return apiFetch<RemoveDatabaseResponse>(`${base(id)}?${params}`, { method: "DELETE" });
    },
    onSuccess: async (result, { id }) => {
      if (result.changes === "deleted") {
        queryClient.removeQueries({ queryKey: queryKeys.databases.detail(id) });
      } else {
        await queryClient.invalidateQueries({ queryKey: queryKeys.databases.detail(id) });
      }
      queryClient.removeQueries({ queryKey: queryKeys.databases.tables(id) });
      await queryClient.invalidateQueries({ queryKey: queryKeys.databases.list() });
    },
    // A failed removal pauses the database first; show that.
    onError: async (_error, { id }) => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.databases.list() }),
        queryClient.invalidateQueries({ queryKey: queryKeys.databases.detail(id) }),
      ]);
    },
  });
}

export function useSaveTables(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (tables: string[]) =>
      apiFetch<TrackedTablesResponse>(`${base(id)}/tables`, { method: "PUT", body: JSON.stringify({ tables }) }),
    onSuccess: async ({ tables }) => {
      // Mark the saved set at once so the page does not flash the old selection while refetching.
      const tracked = new Set(tables.map((t) => `${t.schema}.${t.table}`));
      queryClient.setQueryData<SourceTablesResponse>(queryKeys.databases.tables(id), (old) =>
        old
          ? { ...old, tables: old.tables.map((t) => ({ ...t, tracked: tracked.has(`${t.schema}.${t.name}`) })) }
          : old,
      );
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.databases.tables(id) }),
        queryClient.invalidateQueries({ queryKey: queryKeys.databases.detail(id) }),
        queryClient.invalidateQueries({ queryKey: queryKeys.databases.list() }),
      ]);
    },
  });
}

/** "Track new tables automatically" on or off (PATCH /api/databases/:id); the tables page shows what it took. */
export function useSetTrackNewTables(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (trackNewTables: boolean) =>
      apiFetch<DatabaseResponse>(base(id), { method: "PATCH", body: JSON.stringify({ trackNewTables }) }),
    onSuccess: async () => {
      await Promise.all([
        queryClient.invalidateQueries({ queryKey: queryKeys.databases.tables(id) }),
        queryClient.invalidateQueries({ queryKey: queryKeys.databases.detail(id) }),
      ]);
    },
  });
}

/** The one-click fix: REPLICA IDENTITY FULL on one table. */
export function useFixIdentity(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (table: string) =>
      apiFetch<unknown>(`${base(id)}/tables/identity`, { method: "POST", body: JSON.stringify({ table }) }),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: queryKeys.databases.tables(id) });
    },
  });
}

export function useColumnRules(id: string) {
  return useQuery({
    queryKey: queryKeys.databases.columns(id),
    queryFn: ({ signal }) => apiFetch<ColumnRulesResponse>(`${base(id)}/columns`, { signal }),
  });
}

export function useSaveColumnRules(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (rules: ColumnRules) =>
      apiFetch<ColumnRulesResponse>(`${base(id)}/columns`, { method: "PUT", body: JSON.stringify(rules) }),
    onSuccess: (saved) => {
      queryClient.setQueryData(queryKeys.databases.columns(id), saved);
    },
  });
}

/** Field messages from a 400's details ([{ path, message }]). */
export function fieldErrorsOf(details: unknown): Record<string, string> {
  if (!Array.isArray(details)) return {};
  const errors: Record<string, string> = {};
  for (const item of details) {
    if (typeof item !== "object" || item === null) continue;
    const { path, message } = item as { path?: unknown; message?: unknown };
    if (typeof path === "string" && typeof message === "string" && !(path in errors)) errors[path] = message;
  }
  return errors;
}

/** The exact fix a source error carries in details.fix, if any. */
export function fixOf(details: unknown): string | null {
  if (typeof details !== "object" || details === null || Array.isArray(details)) return null;
  const fix = (details as { fix?: unknown }).fix;
  return typeof fix === "string" ? fix : null;
}

/** Every check, passed and failed, that a refused Add Database carries in details.checks (as Check reports). */
export function checksOf(details: unknown): CheckJson[] | null {
  if (typeof details !== "object" || details === null || Array.isArray(details)) return null;
  const checks = (details as { checks?: unknown }).checks;
  return Array.isArray(checks) ? (checks as CheckJson[]) : null;
}
