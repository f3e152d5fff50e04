import type { Logger } from "pino";
import type { Db } from "../db/client";
import { getSourceConnection } from "../sources/queries";
import { BaselineStopped, copyBaseline } from "./copy";
import { claimBaseline, finishBaseline, recordSnapshot, writeChunk, type BaselineJson } from "./queries";

/** Rows a chunk reads from the source and writes to the store (one store statement each). */
export const BASELINE_CHUNK_ROWS = 2000;

export type BaselineRunOptions = { secret: string; logger: Logger; chunkRows?: number; stopping?: () => boolean };

/**
 * Runs one claimed baseline to its end: done, failed (the reason kept for the page), or back to pending when the
 * worker is stopping (another run starts it over from a new snapshot).
 */
export async function runBaseline(db: Db, baseline: BaselineJson, options: BaselineRunOptions): Promise<void> {
  const log = options.logger.child({ baselineId: baseline.id, table: `${baseline.schema}.${baseline.table}` });
  try {
    const source = await getSourceConnection(db, baseline.sourceId, options.secret);
    if (!source) throw new Error("the database was removed");
    log.info("baseline started");
    await copyBaseline({
      connection: source.connection,
      schema: baseline.schema,
      table: baseline.table,
      chunkRows: options.chunkRows ?? BASELINE_CHUNK_ROWS,
      stopping: options.stopping,
      onSnapshot: (info) => recordSnapshot(db, baseline.id, info),
      onChunk: (rows) => writeChunk(db, baseline.id, rows),
    });
    await finishBaseline(db, baseline.id, {});
    log.info("baseline done");
  } catch (error) {
    if (error instanceof BaselineStopped) {
      await finishBaseline(db, baseline.id, { retry: true }).catch(() => undefined);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    log.warn({ err: { message } }, "baseline failed");
    await finishBaseline(db, baseline.id, { error: message }).catch(() => undefined);
  }
}

/** Claims and runs the next pending baseline, if any; true when one ran. */
export async function runNextBaseline(db: Db, options: BaselineRunOptions): Promise<boolean> {
  const baseline = await claimBaseline(db);
  if (!baseline) return false;
  await runBaseline(db, baseline, options);
  return true;
}
