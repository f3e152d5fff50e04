import crypto from "node:crypto";
import { sealKey } from "../seals/chain";

/** What a trail_expiries row says, as signed: which changes went, and where to (if archived). */
export type Expiry = {
  partition: string;
  sourceId: string;
  bucket: string;
  fromAt: Date;
  toAt: Date;
  changes: number;
  minChangeId: string | null;
  maxChangeId: string | null;
  archiveLocation: string | null;
};

function expiryMessage(e: Expiry): string {
  return JSON.stringify([
    "retrace-expiry-v1",
    e.partition,
    e.sourceId,
    e.bucket,
    e.fromAt.getTime(),
    e.toAt.getTime(),
    e.changes,
    e.minChangeId,
    e.maxChangeId,
    e.archiveLocation,
  ]);
}

/** HMAC-SHA-256 with the seal key (the key seal checkpoints are signed with), hex. */
export function signExpiry(expiry: Expiry, secret: string): string {
  return crypto.createHmac("sha256", sealKey(secret)).update(expiryMessage(expiry)).digest("hex");
}

export function expirySignatureValid(expiry: Expiry, signature: string, secret: string): boolean {
  const expected = Buffer.from(signExpiry(expiry, secret), "hex");
  const actual = Buffer.from(signature, "hex");
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}
