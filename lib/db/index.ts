import "server-only";
import { env } from "../env";
import { connectStore, type Store } from "./client";

const globalStore = globalThis as unknown as { retraceStore?: Store };

/** The web server's store connection, created on first use and shared across requests. */
export function getStore(): Store {
  globalStore.retraceStore ??= connectStore(env.web.DATABASE_URL, { name: "retrace-web" });
  return globalStore.retraceStore;
}

export function getDb() {
  return getStore().db;
}
