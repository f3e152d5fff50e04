import { decryptSecret } from "../crypto/secrets";
import { PasswordUnreadable } from "./errors";

/**
 * A source's password, decrypted with the instance secret: the one place both the web app (to
 * check and provision a source) and the worker (to stream it) read it. A password stored under
 * another secret fails the same way in both, with a message that says what to do (the worker
 * stores it as the source's last error).
 */
export function decryptSourcePassword(encrypted: string, secret: string): string {
  try {
    return decryptSecret(encrypted, secret);
  } catch {
    throw new PasswordUnreadable();
  }
}
