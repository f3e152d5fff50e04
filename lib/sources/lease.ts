import crypto from "node:crypto";
import { sql } from "drizzle-orm";
import type { Queryable } from "../db/client";

/**
 * Stable signed 64-bit advisory-lock key for a source (first 8 bytes of SHA-256 of its id): the worker streaming
 * a source holds it (worker/lease.ts), so whether anyone holds it says whether a worker is on the source.
 */
export function leaseKey(sourceId: string): string {
  return crypto.createHash("sha256").update(`retrace-source:${sourceId}`).digest().readBigInt64BE(0).toString();
}

/**
 * The bigint advisory locks held in the store's database now, as leaseKey writes them. PostgreSQL lists a
 * bigint key as its high half (classid) and low half (objid), with objsubid 1; shifting the high half back is
 * exactly the signed key (bigint shifts wrap, they do not overflow).
 */
export async function heldLeaseKeys(db: Queryable): Promise<Set<string>> {
  const { rows } = await db.execute<{ key: string }>(sql`
    select ((l.classid::bigint << 32) | l.objid::bigint)::text as key
      from pg_locks l
     where l.locktype = 'advisory' and l.granted and l.objsubid = 1
       and l.database = (select oid from pg_database where datname = current_database())`);
  return new Set(rows.map((row) => row.key));
}
