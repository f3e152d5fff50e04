import type pg from "pg";
import { compareLsn } from "../replication/lsn";
import { expirySignatureValid } from "../retention/expiry-signature";
import type { NamedChange, VerifyProblem, VerifyResult } from "./types";
import {
  chainHash,
  changeDigest,
  checkpointSignatureValid,
  GENESIS,
  SEALED_COLUMNS_SQL,
  type SealedChange,
} from "./chain";

type SealRow = {
  position: string;
  change_id: string;
  commit_lsn: string;
  seq: number;
  table: string;
  primary_key: string | null;
  digest: string;
  hash: string;
  /** trail_expiries rows covering the sealed change's (source, bucket, committed_at), signed or not. */
  expiries: string[];
};

type CheckpointRow = {
  position: string;
  change_id: string;
  commit_lsn: string;
  seq: number;
  hash: string;
  signature: string;
  committed_at: Date;
};

const PAGE = 2_000;

/** Rows of `query` page by page (keyset: `after` gives the next page's parameters from a page's last row). */
async function* paged<T extends pg.QueryResultRow>(
  pool: pg.ClientBase,
  query: string,
  first: unknown[],
  after: (last: T) => unknown[],
): AsyncGenerator<T> {
  let params = first;
  for (;;) {
    const { rows } = await pool.query<T>(query, [...params, PAGE]);
    yield* rows;
    const last = rows[rows.length - 1];
    if (rows.length < PAGE || !last) return;
    params = after(last);
  }
}

function keyOrder(a: { commit_lsn: string; seq: number }, b: { commit_lsn: string; seq: number }): number {
  return compareLsn(a.commit_lsn, b.commit_lsn) || a.seq - b.seq;
}

const fromChange = (c: SealedChange): NamedChange => ({
  id: c.id,
  table: c.table,
  primaryKey: c.primary_key,
  commitLsn: c.commit_lsn,
  seq: c.seq,
});
const fromSeal = (s: SealRow): NamedChange => ({
  id: s.change_id,
  table: s.table,
  primaryKey: s.primary_key,
  commitLsn: s.commit_lsn,
  seq: s.seq,
});

/**
 * Re-computes a source's chain from the stored changes and compares it with the seals, from the start or
 * from the last signed checkpoint before `from`, and names the FIRST change that was altered, inserted or
 * removed since it was sealed. Changes stored after the chain head are counted as not sealed yet.
 *
 * Everything is read in one snapshot (a read-only REPEATABLE READ transaction): the seals, the checkpoints and the
 * changes as of one moment, and no page of changes missed while the partition keeper moves rows out of the default
 * partition (a READ COMMITTED read can plan before such a move and run after it: lib/seals/seal.ts).
 */
export async function verifySource(
  pool: pg.Pool,
  sourceId: string,
  secret: string,
  options: { from?: Date } = {},
): Promise<VerifyResult> {
  const client = await pool.connect();
  try {
    await client.query("begin isolation level repeatable read read only");
    try {
      return await verifyInSnapshot(client, sourceId, secret, options);
    } finally {
      await client.query("rollback").catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

async function verifyInSnapshot(
  pool: pg.ClientBase,
  sourceId: string,
  secret: string,
  options: { from?: Date },
): Promise<VerifyResult> {
  const fail = (problem: VerifyProblem, change: NamedChange | null, message: string): VerifyResult => ({
    ok: false,
    sourceId,
    problem,
    change,
    message,
  });
  const { rows: checkpoints } = await pool.query<CheckpointRow>(
    `select position::text, change_id::text, commit_lsn::text, seq, hash, signature, committed_at
     from seal_checkpoints where source_id = $1 order by seal_checkpoints.position`,
    [sourceId],
  );
  for (const c of checkpoints) {
    const signed = { sourceId, position: c.position, changeId: c.change_id, commitLsn: c.commit_lsn, seq: c.seq };
    if (!checkpointSignatureValid({ ...signed, hash: c.hash }, c.signature, secret)) {
      return fail("seals-tampered", null, `The signed checkpoint at position ${c.position} does not verify.`);
    }
  }
  const head = checkpoints[checkpoints.length - 1];
  let start: CheckpointRow | undefined;
  if (options.from) {
    for (const c of checkpoints) if (c.committed_at < options.from) start = c;
  }
  const byPosition = new Map(checkpoints.map((c) => [c.position, c]));
  const expiries = await validExpiries(pool, sourceId, secret);

  const seals = paged<SealRow>(
    pool,
    `select position::text, change_id::text, commit_lsn::text, seq, "table", primary_key, digest, hash,
            array(select e.id::text from trail_expiries e
                   where e.source_id = s.source_id and e.bucket = s.bucket
                     and s.committed_at >= e.from_at and s.committed_at < e.to_at) as expiries
     from change_seals s where source_id = $1 and position > $2::bigint and position <= $3::bigint
     order by s.position limit $4`,
    [sourceId, start?.position ?? "0", head?.position ?? "0"],
    (last) => [sourceId, last.position, head?.position ?? "0"],
  );
  const stored = paged<SealedChange>(
    pool,
    `select ${SEALED_COLUMNS_SQL} from changes
     where source_id = $1 and ($2::pg_lsn is null or (commit_lsn, seq) > ($2::pg_lsn, $3::int))
     order by changes.commit_lsn, changes.seq limit $4`,
    [sourceId, start?.commit_lsn ?? null, start?.seq ?? 0],
    (last) => [sourceId, last.commit_lsn, last.seq],
  );

  let hash = start?.hash ?? GENESIS;
  let position = BigInt(start?.position ?? "0");
  let verified = 0;
  let expired = 0;
  let upTo: NamedChange | null = null;
  let seal = await seals.next();
  let change = await stored.next();
  while (!seal.done) {
    const s = seal.value;
    position += 1n;
    if (BigInt(s.position) !== position) {
      return fail("seals-tampered", fromSeal(s), `The seal at position ${position} is missing.`);
    }
    if (change.done || keyOrder(s, change.value) < 0) {
      if (s.expiries.some((id) => expiries.has(id))) {
        // Dropped by retention: the bytes are gone, the seal still chains (its digest is what was sealed).
        hash = chainHash(hash, s.digest);
        const checkpoint = byPosition.get(s.position);
        if (hash !== s.hash || (checkpoint && (checkpoint.hash !== hash || checkpoint.change_id !== s.change_id))) {
          return fail("seals-tampered", fromSeal(s), `The seal chain does not match at change ${s.change_id}.`);
        }
        expired += 1;
        seal = await seals.next();
        continue;
      }
      return fail(
        "removed",
        fromSeal(s),
        `Change ${s.change_id} (${s.table}, key ${s.primary_key ?? "none"}) was sealed but is no longer stored.`,
      );
    }
    const c = change.value;
    if (keyOrder(s, c) > 0) {
      return fail(
        "inserted",
        fromChange(c),
        `Change ${c.id} (${c.table}, key ${c.primary_key ?? "none"}) is stored where the sealed chain has none.`,
      );
    }
    const digest = changeDigest(c);
    if (digest !== s.digest || c.id !== s.change_id) {
      return fail(
        "altered",
        fromChange(c),
        `Change ${c.id} (${c.table}, key ${c.primary_key ?? "none"}) differs from what was sealed.`,
      );
    }
    hash = chainHash(hash, digest);
    if (hash !== s.hash) {
      return fail("seals-tampered", fromChange(c), `The seal chain does not match at change ${c.id}.`);
    }
    const checkpoint = byPosition.get(s.position);
    if (checkpoint && (checkpoint.hash !== hash || checkpoint.change_id !== c.id)) {
      return fail("seals-tampered", fromChange(c), `The signed checkpoint at change ${c.id} does not match.`);
    }
    verified += 1;
    upTo = fromChange(c);
    seal = await seals.next();
    change = await stored.next();
  }
  if (position !== BigInt(head?.position ?? "0")) {
    return fail(
      "seals-tampered",
      upTo,
      `The seals end at position ${position}, the signed head is at ${head?.position}.`,
    );
  }
  let unsealed = 0;
  if (!change.done) {
    const { rows } = await pool.query<{ n: number }>(
      "select count(*)::int as n from changes where source_id = $1 and (commit_lsn, seq) >= ($2::pg_lsn, $3::int)",
      [sourceId, change.value.commit_lsn, change.value.seq],
    );
    unsealed = rows[0]?.n ?? 0;
  }
  return { ok: true, sourceId, verified, upTo, unsealed, expired };
}

type ExpiryRow = {
  id: string;
  partition: string;
  bucket: string;
  from_at: Date;
  to_at: Date;
  changes: string;
  min_change_id: string | null;
  max_change_id: string | null;
  archive_location: string | null;
  signature: string;
};

/** The ids of the source's trail_expiries rows whose signature verifies (an unsigned one covers nothing). */
async function validExpiries(pool: pg.ClientBase, sourceId: string, secret: string): Promise<Set<string>> {
  const { rows } = await pool.query<ExpiryRow>(
    `select id::text, partition, bucket, from_at, to_at, changes::text, min_change_id::text, max_change_id::text,
            archive_location, signature
       from trail_expiries where source_id = $1`,
    [sourceId],
  );
  const valid = new Set<string>();
  for (const e of rows) {
    // Bounds the expirer never writes (±infinity come back as no Date): nothing it signed.
    if (!(e.from_at instanceof Date) || !(e.to_at instanceof Date)) continue;
    const expiry = {
      partition: e.partition,
      sourceId,
      bucket: e.bucket,
      fromAt: e.from_at,
      toAt: e.to_at,
      changes: Number(e.changes),
      minChangeId: e.min_change_id,
      maxChangeId: e.max_change_id,
      archiveLocation: e.archive_location,
    };
    if (expirySignatureValid(expiry, e.signature, secret)) valid.add(e.id);
  }
  return valid;
}
