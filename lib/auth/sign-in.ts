import type { Db } from "../db/client";
import { checkSignInAllowed, clearSignInFailures, recordSignInFailure } from "./rate-limit";
import { verifyCredentials } from "./users";

/**
 * A sign-in with email and password, within the limits of lib/auth/rate-limit.ts: the user, null for wrong
 * credentials, SignInLimited thrown when this account or address must wait.
 */
export async function signInWithPassword(db: Db, email: string, password: string, address: string | null) {
  const normalized = email.trim().toLowerCase().slice(0, 320);
  await checkSignInAllowed(db, normalized, address);
  const user = await verifyCredentials(db, normalized, password);
  if (!user) {
    await recordSignInFailure(db, normalized, address);
    return null;
  }
  await clearSignInFailures(db, normalized);
  return user;
}
