import type pg from "pg";
import { ProvisioningFailed } from "./errors";
import { dropNewTablesSql } from "./new-tables";
import { toProvisionError, type ReplicationNames } from "./provision";
import { quoteIdent } from "./sql";

/**
 * Takes a source's replication apart again: its slot (waiting out a worker that still holds it),
 * the new-tables trigger and the publication, with the SQL to do it by hand when Retrace cannot.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** SQL a person can run by hand when Retrace cannot clean up a source. */
export function manualCleanupSql(names: ReplicationNames): string {
  return [
    `SELECT pg_drop_replication_slot('${names.slotName}') ` +
      `FROM pg_replication_slots WHERE slot_name = '${names.slotName}';`,
    `DROP PUBLICATION IF EXISTS ${quoteIdent(names.publicationName)};`,
  ].join("\n");
}

/**
 * Drops the slot (when present) and the publication. A worker may hold the slot for a few
 * seconds after the source is disabled: wait for it, and only as a last resort terminate the
 * walsender that keeps it active.
 */
export async function deprovisionSource(
  client: pg.Client,
  names: ReplicationNames,
  options: { activeWaitMs?: number; pollMs?: number } = {},
): Promise<{ slotDropped: boolean; terminatedPid: number | null }> {
  const activeWaitMs = options.activeWaitMs ?? 15_000;
  const pollMs = options.pollMs ?? 250;
  const deadline = Date.now() + activeWaitMs;
  const giveUpAt = deadline + 10_000;
  let slotDropped = false;
  let terminatedPid: number | null = null;
  try {
    for (;;) {
      const { rows } = await client.query<{ active: boolean; active_pid: number | null }>(
        "select active, active_pid from pg_replication_slots where slot_name = $1",
        [names.slotName],
      );
      const slot = rows[0];
      if (!slot) break;
      if (!slot.active) {
        try {
          await client.query("select pg_drop_replication_slot($1)", [names.slotName]);
          slotDropped = true;
          break;
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === "42704") break; // dropped meanwhile
          if (code !== "55006") throw error; // 55006: became active again; look again
        }
      } else if (Date.now() >= giveUpAt) {
        throw new ProvisioningFailed(
          `Replication slot ${names.slotName} is still in use by process ${slot.active_pid ?? "?"}.`,
          manualCleanupSql(names),
        );
      } else if (Date.now() >= deadline && slot.active_pid !== null && terminatedPid !== slot.active_pid) {
        terminatedPid = slot.active_pid;
        await client.query("select pg_terminate_backend($1)", [slot.active_pid]);
      }
      await sleep(pollMs);
    }
    // "Track new tables automatically": its trigger would otherwise warn at every CREATE TABLE.
    await client.query(dropNewTablesSql(names)).catch(() => undefined);
    await client.query(`drop publication if exists ${quoteIdent(names.publicationName)}`);
  } catch (error) {
    const mapped = toProvisionError(error);
    throw mapped instanceof ProvisioningFailed && !mapped.fix
      ? new ProvisioningFailed(mapped.message, manualCleanupSql(names))
      : mapped;
  }
  return { slotDropped, terminatedPid };
}
