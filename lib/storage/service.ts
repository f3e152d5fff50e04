import type { Db } from "../db/client";
import type { RetentionForecast } from "../retention/forecast";
import type { RetentionRule } from "../retention/input";
import { readRetention } from "../retention/settings";
import { readStorageFacts, type StorageFacts } from "./read";
import { buildStorageReport, type StorageReport } from "./report";

/** The storage facts and the stored rules, read in one snapshot. */
async function readSnapshot(db: Db): Promise<{ facts: StorageFacts; rules: RetentionRule[] }> {
  return db.transaction(async (tx) => ({ facts: await readStorageFacts(tx), rules: (await readRetention(tx)).rules }), {
    isolationLevel: "repeatable read",
    accessMode: "read only",
  });
}

/** GET /api/storage. */
export async function storageReport(db: Db, now: Date): Promise<StorageReport> {
  const { facts, rules } = await readSnapshot(db);
  return buildStorageReport(facts, rules, now);
}

/** What `rules` (not saved) would free of the partitions there are now. */
export async function previewRetention(db: Db, rules: readonly RetentionRule[], now: Date): Promise<RetentionForecast> {
  const { facts } = await readSnapshot(db);
  return buildStorageReport(facts, rules, now).retention;
}
