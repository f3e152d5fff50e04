import fs from "node:fs";
import path from "node:path";
import pg from "pg";

/** The URL of the e2e instance's own store (its embedded PostgreSQL, .test-data/e2e-store). */
export function storeUrl(): string {
  const { password } = JSON.parse(fs.readFileSync(path.resolve(".test-data/e2e-store/store.json"), "utf8")) as {
    password: string;
  };
  return `postgres://postgres:${encodeURIComponent(password)}@localhost:${process.env.E2E_STORE_PORT ?? "54431"}/retrace`;
}

/** A connection to that store, for specs that look at or hold up what the worker does there. The caller ends it. */
export async function connectStore(): Promise<pg.Client> {
  const store = new pg.Client({ connectionString: storeUrl() });
  await store.connect();
  return store;
}
