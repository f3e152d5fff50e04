import crypto from "node:crypto";

/** The next-auth signing secret, derived from the instance secret so there is one secret to keep. */
export function sessionSecret(instanceSecret: string): string {
  return Buffer.from(crypto.hkdfSync("sha256", instanceSecret, "retrace", "session", 32)).toString("base64url");
}
