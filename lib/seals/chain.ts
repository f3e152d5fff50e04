import crypto from "node:crypto";

/** The chain hash before a source's first change. */
export const GENESIS = "0".repeat(64);

/**
 * The columns of a change that are sealed, each as the exact text the store holds (json images as
 * written, jsonb context as PostgreSQL prints it, committed_at in UTC to the microsecond).
 */
export const SEALED_COLUMNS_SQL = `id::text as id, source_id::text as source_id, commit_lsn::text as commit_lsn,
  seq, operation::text as operation, schema, "table", primary_key, before::text as before, after::text as after,
  context::text as context,
  to_char(committed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as committed_at`;

export type SealedChange = {
  id: string;
  source_id: string;
  commit_lsn: string;
  seq: number;
  operation: string;
  schema: string;
  table: string;
  primary_key: string | null;
  before: string | null;
  after: string | null;
  context: string | null;
  committed_at: string;
};

/** SHA-256 (hex) of a change's canonical bytes: its sealed columns, in order, as a JSON array. */
export function changeDigest(change: SealedChange): string {
  const canonical = JSON.stringify([
    change.id,
    change.source_id,
    change.commit_lsn,
    change.seq,
    change.operation,
    change.schema,
    change.table,
    change.primary_key,
    change.before,
    change.after,
    change.context,
    change.committed_at,
  ]);
  return crypto.createHash("sha256").update(canonical, "utf8").digest("hex");
}

/** h_n = SHA-256(h_{n-1} || digest_n), over the raw bytes, hex. */
export function chainHash(previous: string, digest: string): string {
  return crypto
    .createHash("sha256")
    .update(Buffer.from(previous, "hex"))
    .update(Buffer.from(digest, "hex"))
    .digest("hex");
}

export type Checkpoint = {
  sourceId: string;
  position: string;
  changeId: string;
  commitLsn: string;
  seq: number;
  hash: string;
};

export function sealKey(secret: string): Buffer {
  return Buffer.from(crypto.hkdfSync("sha256", secret, "retrace", "seal-checkpoint", 32));
}

function checkpointMessage(c: Checkpoint): string {
  return ["retrace-seal-v1", c.sourceId, c.position, c.changeId, c.commitLsn, c.seq, c.hash].join("|");
}

/** HMAC-SHA-256 of a checkpoint, keyed by the instance secret (HKDF, purpose "seal-checkpoint"), hex. */
export function signCheckpoint(checkpoint: Checkpoint, secret: string): string {
  return crypto.createHmac("sha256", sealKey(secret)).update(checkpointMessage(checkpoint)).digest("hex");
}

export function checkpointSignatureValid(checkpoint: Checkpoint, signature: string, secret: string): boolean {
  const expected = Buffer.from(signCheckpoint(checkpoint, secret), "hex");
  const actual = Buffer.from(signature, "hex");
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}
