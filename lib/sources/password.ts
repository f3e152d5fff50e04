import { decryptSecret } from "../crypto/secrets";
import { AppError } from "../http/errors";

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
    throw new AppError(
      "password_unreadable",
      422,
      "The stored password of this database cannot be decrypted with this instance's RETRACE_SECRET " +
        "(was the secret changed?). Restore the previous secret, or remove the database and connect it again.",
    );
  }
}
