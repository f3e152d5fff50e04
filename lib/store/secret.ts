import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * The instance secret (encrypts source passwords, signs sessions). Taken from RETRACE_SECRET
 * when set; otherwise generated once into `<dataDir>/secret` (mode 0600) and reused.
 */
export function resolveSecret(dataDir: string, fromEnv: string | undefined): string {
  if (fromEnv) return fromEnv;
  const file = path.join(dataDir, "secret");
  if (fs.existsSync(file)) {
    keepPrivate(file);
    return fs.readFileSync(file, "utf8").trim();
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const secret = crypto.randomBytes(32).toString("base64url");
  fs.writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/**
 * A file only its owner may read (0600): one that was made readable to others (copied with a loose umask, a
 * backup restored) is closed again before it is read.
 */
export function keepPrivate(file: string): void {
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
}
