// Hand-written on purpose, a measured choice: one advisory lock on its own store connection, which the server
// releases when a worker dies, even by SIGKILL (takeover in 1.5-5 s, worker/faults.int.test.ts). Keep it.
import pg from "pg";
import { storeClientConfig } from "../lib/db/connection";
import { leaseKey } from "../lib/sources/lease";

/**
 * The right to stream one source: a session advisory lock on a dedicated store connection.
 * It is held as long as that connection lives, so a worker that dies (even by SIGKILL) loses it
 * as soon as the store notices, and another worker takes over.
 */
export class Lease {
  private released = false;
  /** Set when the lease connection died: the lock is gone and the source must be let go. */
  lost = false;

  private constructor(
    private readonly client: pg.Client,
    readonly sourceId: string,
  ) {}

  /** Null when another worker holds the source. `onLost` fires if the connection dies. */
  static async acquire(databaseUrl: string, sourceId: string, onLost: (error: Error) => void): Promise<Lease | null> {
    const client = new pg.Client({ ...storeClientConfig(databaseUrl, "retrace-worker-lease"), keepAlive: true });
    let lease: Lease | null = null;
    const lost = (error: Error) => {
      if (!lease || lease.released || lease.lost) return;
      lease.lost = true;
      onLost(error);
    };
    client.on("error", lost);
    client.on("end", () => lost(new Error("Lease connection closed")));
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean }>("select pg_try_advisory_lock($1::bigint) as locked", [
        leaseKey(sourceId),
      ]);
      if (rows[0]?.locked !== true) {
        await client.end();
        return null;
      }
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    lease = new Lease(client, sourceId);
    return lease;
  }

  /** Closing the connection releases the lock. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.client.end().catch(() => undefined);
  }
}
