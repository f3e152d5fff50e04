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

// A keyed hash costs ~1.5 µs (Node's createHmac, measured on 2 vCPUs): masked columns often repeat values (a
// status, a user's email across their changes), so recent short ones are remembered. Bounded: cleared when full.
const MEMO_ENTRIES = 10_000;
const MEMO_MAX_CHARS = 128;

/** A masker for one key: the value's exact text in, `hmac:<hex>` out. */
export function valueMasker(key: Buffer): (text: string) => string {
  const memo = new Map<string, string>();
  return (text) => {
    const known = memo.get(text);
    if (known !== undefined) return known;
    const masked = MASK_PREFIX + crypto.createHmac("sha256", key).update(text, "utf8").digest("hex").slice(0, 32);
    if (text.length <= MEMO_MAX_CHARS) {
      if (memo.size >= MEMO_ENTRIES) memo.clear();
      memo.set(text, masked);
    }
    return masked;
  };
}
