import type { FilterValues } from "../changes/filters";
import type { RecordKey } from "../changes/history-key";
import type { RevertTargetJson } from "../changes/revert/api-types";
import type { RetentionRule } from "../retention/input";

/** The Activity page's filters, as in its URL. */
export type AuditFilterValues = { action: string; actor: string };

/** The one query-key factory for TanStack Query; invalidate by the narrowest key that fits. */
export const queryKeys = {
  databases: {
    all: ["databases"] as const,
    list: () => [...queryKeys.databases.all, "list"] as const,
    detail: (id: string) => [...queryKeys.databases.all, "detail", id] as const,
    tables: (id: string) => [...queryKeys.databases.all, "tables", id] as const,
    columns: (id: string) => [...queryKeys.databases.all, "columns", id] as const,
    roleSql: (database: string, hostKind = "", tables = "") =>
      [...queryKeys.databases.all, "role-sql", database, hostKind, tables] as const,
  },
  changes: {
    all: ["changes"] as const,
    list: (filters: FilterValues) => [...queryKeys.changes.all, "list", filters] as const,
    /** The live tail of the list with the same filters. */
    live: (filters: FilterValues) => [...queryKeys.changes.all, "live", filters] as const,
    activity: (filters: FilterValues) => [...queryKeys.changes.all, "activity", filters] as const,
    detail: (id: string) => [...queryKeys.changes.all, "detail", id] as const,
    transaction: (id: string) => [...queryKeys.changes.all, "transaction", id] as const,
  },
  records: {
    all: ["records"] as const,
    history: (key: RecordKey) => [...queryKeys.records.all, "history", key] as const,
  },
  reverts: {
    all: ["reverts"] as const,
    plan: (target: RevertTargetJson) => [...queryKeys.reverts.all, "plan", target] as const,
  },
  team: {
    all: ["team"] as const,
    users: () => [...queryKeys.team.all, "users"] as const,
    tokens: () => [...queryKeys.team.all, "tokens"] as const,
    audit: (filters: AuditFilterValues) => [...queryKeys.team.all, "audit", filters] as const,
  },
  retention: {
    all: ["retention"] as const,
    settings: () => [...queryKeys.retention.all, "settings"] as const,
    preview: (rules: readonly RetentionRule[]) => [...queryKeys.retention.all, "preview", rules] as const,
    storage: () => [...queryKeys.retention.all, "storage"] as const,
    holds: () => [...queryKeys.retention.all, "holds"] as const,
  },
  trail: {
    all: ["trail"] as const,
    tables: (q: string, environment: string, database: string) =>
      [...queryKeys.trail.all, "tables", environment, database, q] as const,
    environments: () => [...queryKeys.trail.all, "environments"] as const,
  },
};
