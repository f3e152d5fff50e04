import os from "node:os";
import type { AuditActor } from "../audit/record";
import { migrateStore } from "../db/migrate";
import { resolveStore, type ResolvedStore } from "./store";

/** A command line the CLI cannot run: printed with the usage, exit status 2. */
export class UsageError extends Error {}

export const log = (line: string) => console.error(`retrace: ${line}`);

/** Runs `fn` with the store found (lib/cli/store.ts) and migrated; stops an embedded store it started. */
export async function withStore<T>(fn: (store: ResolvedStore) => Promise<T>): Promise<T> {
  const store = await resolveStore(log);
  try {
    await migrateStore(store.url);
    return await fn(store);
  } finally {
    await store.release();
  }
}

/** The command line as an audit actor: the OS user running it, when the system can name it. */
export function cliActor(): AuditActor {
  try {
    return { kind: "cli", osUser: os.userInfo().username };
  } catch {
    return { kind: "cli", osUser: null };
  }
}
