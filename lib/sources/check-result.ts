/**
 * What a connect check is (its id, label, outcome and fix), how one is built, and the domain error a failed one
 * stands for. The checks themselves: connection-checks.ts (connecting), evaluate-checks.ts (the server's facts).
 */
import {
  AuthenticationFailed,
  DatabaseMissing,
  InsufficientPrivilege,
  NoFreeSlots,
  NoFreeWalSenders,
  SourceError,
  SslFailed,
  UnsupportedVersion,
  WalLevelNotLogical,
} from "./errors";
import type { HostKind } from "./host-kind";
import { Invalid, type AppError } from "../errors";

export type CheckId =
  | "reachable"
  | "tls"
  | "authentication"
  | "database"
  | "version"
  | "wal_level"
  | "replication"
  | "replication_slots"
  | "wal_senders"
  | "publication"
  | "tables"
  | "select"
  | "names";

export type Check = { id: CheckId; label: string; ok: boolean; message: string; fix?: string };

export type CheckReport = {
  ok: boolean;
  checks: Check[];
  /** The kind of host the fixes are for, and whether it was detected (not chosen). */
  hostKind: { kind: HostKind; label: string; detected: boolean };
  /** SQL that creates a dedicated least-privilege role for Retrace, ready to copy. */
  roleSql: string;
};

export const LABELS: Record<CheckId, string> = {
  reachable: "Server reachable",
  tls: "TLS",
  authentication: "Authentication",
  database: "Database exists",
  version: "PostgreSQL 14 or later",
  wal_level: "wal_level = logical",
  replication: "REPLICATION privilege",
  replication_slots: "Free replication slot",
  wal_senders: "Free WAL sender",
  publication: "Can create a publication",
  tables: "Chosen tables exist",
  select: "SELECT on the chosen tables",
  names: "Names free or already ours",
};

export function check(id: CheckId, ok: boolean, message: string, fix?: string): Check {
  return fix && !ok ? { id, label: LABELS[id], ok, message, fix } : { id, label: LABELS[id], ok, message };
}

/** The domain error a failed check stands for (what POST /api/databases answers). */
export function errorForCheck(failed: Check): AppError {
  switch (failed.id) {
    case "version":
      return new UnsupportedVersion(failed.message, failed.fix);
    case "wal_level":
      return new WalLevelNotLogical(failed.message, failed.fix);
    case "replication":
    case "publication":
      return new InsufficientPrivilege(failed.message, failed.fix);
    case "replication_slots":
      return new NoFreeSlots(failed.message, failed.fix);
    case "wal_senders":
      return new NoFreeWalSenders(failed.message, failed.fix);
    case "select":
      return new InsufficientPrivilege(failed.message, failed.fix);
    case "tables":
      return new Invalid(failed.message);
    case "names":
      return new SourceError("provisioning_failed", failed.message, failed.fix);
    case "reachable":
      return new SourceError("source_unreachable", failed.message, failed.fix);
    case "tls":
      return new SslFailed(failed.message, failed.fix);
    case "authentication":
      return new AuthenticationFailed(failed.message, failed.fix);
    case "database":
      return new DatabaseMissing(failed.message, failed.fix);
  }
}
