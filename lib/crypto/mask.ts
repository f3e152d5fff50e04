import crypto from "node:crypto";

/** Marks a masked value in the trail: `hmac:` and 32 hex digits (128 bits of HMAC-SHA-256). */
export const MASK_PREFIX = "hmac:";

/**
 * The key masked columns are hashed with, derived from the instance secret: one per Retrace
 * instance, so equal values hash alike across tables and sources (equality stays visible), and
 * nobody without the secret can test a guess against a stored hash.
 */
export function columnMaskKey(secret: string): Buffer {
  return Buffer.from(crypto.hkdfSync("sha256", secret, "retrace", "column-mask", 32));
}

/** A masker for one key: the value's exact text in, `hmac:<hex>` out. */
export function valueMasker(key: Buffer): (text: string) => string {
  return (text) => MASK_PREFIX + crypto.createHmac("sha256", key).update(text, "utf8").digest("hex").slice(0, 32);
}
