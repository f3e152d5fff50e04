import crypto from "node:crypto";

/**
 * The code /setup asks for while a new instance has no user yet, so that whoever reaches a fresh instance first
 * (it listens on every interface) cannot make themselves its admin: only someone who can read the log of
 * `retrace start` (it prints the code) or run `retrace setup-code` on the machine can. It is derived from the
 * instance secret, so every web server of the instance (behind a proxy or not) knows it without sharing state,
 * and it is worthless once the first admin exists. 60 bits: not guessable through an HTTP endpoint.
 */

// Crockford's base32: no I, L, O or U, so nothing is misread when typed from a terminal.
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function setupCode(secret: string): string {
  const digest = crypto.createHmac("sha256", secret).update("retrace setup code").digest();
  let bits = 0n;
  for (const byte of digest.subarray(0, 8)) bits = (bits << 8n) | BigInt(byte);
  let code = "";
  for (let i = 0; i < 12; i++) {
    code += ALPHABET[Number(bits & 31n)];
    bits >>= 5n;
  }
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`;
}

/** Whether `given` is the instance's setup code, typed with or without dashes and spaces, in any case. */
export function isSetupCode(secret: string, given: string): boolean {
  const normalize = (code: string) => code.toUpperCase().replace(/[\s-]/g, "").replace(/[IL]/g, "1").replace(/O/g, "0");
  const expected = Buffer.from(normalize(setupCode(secret)));
  const actual = Buffer.from(normalize(given));
  return actual.length === expected.length && crypto.timingSafeEqual(actual, expected);
}
