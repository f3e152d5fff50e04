import type { Db } from "../db/client";
import { AppError } from "../errors";
import { createLogger } from "../log";
import { withSourceClient } from "./connection";
import { safeErrorText } from "./failure";
import { getSourceConnection, type SourceSummary } from "./queries";
import { readSlotFacts, walRisk, type SlotFacts, type WalRisk } from "./slot";

/**
 * The web app's reading of each source's slot (lib/sources/slot.ts), taken on the source with the stored
 * credentials so it is known while no worker streams the source. A page load never waits long for it: a reading
 * is reused for READING_FRESH_MS; one up to READING_STALE_MS old is served while a new one is taken in the
 * background; otherwise the new one is waited for at most READING_DEADLINE_MS (then the old one, if any, is
 * served, or the page says it is not read yet).
 */
export type SlotReading = {
  /** When it was read (or tried), ISO 8601. */
  readAt: string;
  /** Why it could not be read (source unreachable, credentials refused); null when read. */
  error: string | null;
  slot: SlotFacts | null;
  risk: WalRisk | null;
};

// The pages poll every 5 s: a reading is at most about two polls old.
export const READING_FRESH_MS = 5_000;
export const READING_STALE_MS = 30_000;
export const READING_DEADLINE_MS = 2_500;

const log = createLogger("slot-readings");

type Entry = { reading: SlotReading | null; takenAt: number; pending: Promise<SlotReading> | null };

// Per web process, on globalThis: Next bundles route handlers and server components apart, and both must see
// the same readings (a pause answered by the route forgets the reading the pages would show). A reading is a few
// numbers, and sources are few.
const shared = globalThis as typeof globalThis & { retraceSlotReadings?: Map<string, Entry> };
const cache = (shared.retraceSlotReadings ??= new Map<string, Entry>());

async function takeReading(db: Db, secret: string, sourceId: string): Promise<SlotReading> {
  const readAt = new Date().toISOString();
  try {
    const source = await getSourceConnection(db, sourceId, secret);
    if (!source) return { readAt, error: "The database is removed.", slot: null, risk: null };
    const slot = await withSourceClient(source.connection, (client) => readSlotFacts(client, source.names.slotName));
    return { readAt, error: null, slot, risk: walRisk(slot) };
  } catch (error) {
    if (!(error instanceof AppError))
      log.warn({ sourceId, err: { message: safeErrorText(error) } }, "slot reading failed");
    const message = error instanceof AppError ? error.message : safeErrorText(error);
    return { readAt, error: message, slot: null, risk: null };
  }
}

function refresh(db: Db, secret: string, sourceId: string, entry: Entry): Promise<SlotReading> {
  if (entry.pending) return entry.pending;
  const pending = takeReading(db, secret, sourceId).then((reading) => {
    entry.reading = reading;
    entry.takenAt = Date.now();
    entry.pending = null;
    return reading;
  });
  entry.pending = pending;
  return pending;
}

const timeout = (ms: number) => new Promise<null>((resolve) => setTimeout(() => resolve(null), ms).unref());

/**
 * The reading of one source's slot, as fresh as the rules above allow; null when none came in time. With
 * `wait: false` only what is at hand (a new reading is started for the next ask).
 */
export async function slotReading(
  db: Db,
  secret: string,
  sourceId: string,
  options: { wait?: boolean } = {},
): Promise<SlotReading | null> {
  let entry = cache.get(sourceId);
  if (!entry) {
    entry = { reading: null, takenAt: 0, pending: null };
    cache.set(sourceId, entry);
  }
  const age = Date.now() - entry.takenAt;
  if (entry.reading && age < READING_FRESH_MS) return entry.reading;
  const pending = refresh(db, secret, sourceId, entry);
  if ((entry.reading && age < READING_STALE_MS) || options.wait === false) return entry.reading;
  const stale = entry.reading;
  return (await Promise.race([pending, timeout(READING_DEADLINE_MS)])) ?? stale;
}

/** Forget a source's reading: its credentials changed, or it was paused, resumed or removed. */
export function forgetSlotReading(sourceId: string): void {
  cache.delete(sourceId);
}

export type WithSlot<T> = T & { slot: SlotReading | null };

/** Adds each connected source's slot reading (read in parallel); a removed source has none. */
export async function withSlotReadings<T extends Pick<SourceSummary, "id" | "removedAt">>(
  db: Db,
  secret: string,
  sources: readonly T[],
  options: { wait?: boolean } = {},
): Promise<WithSlot<T>[]> {
  return Promise.all(
    sources.map(async (source) => ({
      ...source,
      slot: source.removedAt ? null : await slotReading(db, secret, source.id, options),
    })),
  );
}
