import crypto from "node:crypto";

const VERSION = "v1";

function keyFor(secret: string, purpose: string): Buffer {
  return Buffer.from(crypto.hkdfSync("sha256", secret, "retrace", purpose, 32));
}

/** AES-256-GCM with a key derived from the instance secret. Output: `v1:<base64url>`. */
export function encryptSecret(plaintext: string, secret: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", keyFor(secret, "source-password"), iv);
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url")}`;
}

export function decryptSecret(encrypted: string, secret: string): string {
  const [version, payload] = encrypted.split(":");
  if (version !== VERSION || !payload) throw new Error("Unknown encrypted secret format");
  const raw = Buffer.from(payload, "base64url");
  const decipher = crypto.createDecipheriv("aes-256-gcm", keyFor(secret, "source-password"), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };

/** Password hash for users: `scrypt$N$r$p$salt$hash`. */
export function hashPassword(password: string): string {
  const salt = crypto.randomBytes(16);
  const hash = crypto.scryptSync(password, salt, SCRYPT.keylen, SCRYPT);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

export function verifyPassword(password: string, stored: string): boolean {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = crypto.scryptSync(password, Buffer.from(salt, "base64url"), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return crypto.timingSafeEqual(expected, actual);
}

/** API tokens: `rt_` + 32 random bytes; only the SHA-256 is stored. */
export function newApiToken(): { token: string; hash: string } {
  const token = `rt_${crypto.randomBytes(32).toString("base64url")}`;
  return { token, hash: hashApiToken(token) };
}

export function hashApiToken(token: string): string {
  return crypto.createHash("sha256").update(token).digest("hex");
}
