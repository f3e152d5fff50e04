import type { AuditAction } from "../audit/actions";
import { recordAudit, recordRepeatedAudit, type AuditActor } from "../audit/record";
import type { Db } from "../db/client";
import { createLogger } from "../log";
import {
  checkSignInAllowed,
  clearSignInFailures,
  recordSignInFailure,
  SIGN_IN_LIMITS,
  SignInLimited,
} from "./rate-limit";
import { checkCredentials, type CredentialsRefusal } from "./users";

const log = createLogger("auth");

/** Why a sign-in was refused, as the audit log says it (admins only read it: the form never tells which). */
export type SignInRefusal = CredentialsRefusal | "rate limited";

/**
 * Notes a sign-in, out, or refusal in the audit log; with `repeat`, rolled up into one row per key and window
 * (recordRepeatedAudit). A failed write is logged, never thrown: the audit log must not stop anyone signing in or
 * out. Every outcome makes this one statement, so no refusal takes longer than another.
 */
export async function auditSession(
  db: Db,
  actor: AuditActor,
  action: AuditAction,
  details: Record<string, unknown> = {},
  repeat?: { key: string; windowMinutes: number },
): Promise<void> {
  try {
    if (repeat) await recordRepeatedAudit(db, actor, action, details, repeat);
    else await recordAudit(db, actor, action, null, details);
  } catch (error) {
    log.error({ err: error, action }, "could not write the audit event of a sign-in");
  }
}

/**
 * A sign-in with email and password, within the limits of lib/auth/rate-limit.ts: the user, null for wrong
 * credentials, SignInLimited thrown when this account or address must wait. Each outcome is audited
 * (session.sign_in, or session.sign_in_failed with the email tried and the reason, never the password). Refusals
 * by the limit are the ones a flood repeats without end: they are counted in one row per email tried, address and
 * window of the limit, or, when the address's limit refuses (every email it tries), per address and window (the row
 * names the first email tried; `limit: "address"` in its details). The refusals under the limit are few (the limit
 * caps them), one row each.
 */
export async function signInWithPassword(db: Db, email: string, password: string, address: string | null) {
  const normalized = email.trim().toLowerCase().slice(0, 320);
  const actor = { kind: "anonymous", emailTried: normalized, address } as const;
  const refused = (reason: CredentialsRefusal) => auditSession(db, actor, "session.sign_in_failed", { reason });
  const limited = (limit: SignInLimited["limit"]) => {
    const reason: SignInRefusal = "rate limited";
    const byAddress = limit === "address";
    const key = JSON.stringify(byAddress ? [reason, "address", address] : [reason, address, normalized]);
    const details = byAddress ? { reason, limit } : { reason };
    return auditSession(db, actor, "session.sign_in_failed", details, {
      key,
      windowMinutes: SIGN_IN_LIMITS.windowMinutes,
    });
  };
  try {
    await checkSignInAllowed(db, normalized, address);
  } catch (error) {
    if (error instanceof SignInLimited) await limited(error.limit);
    throw error;
  }
  const checked = await checkCredentials(db, normalized, password);
  if ("refused" in checked) {
    await recordSignInFailure(db, normalized, address);
    await refused(checked.refused);
    return null;
  }
  const { user } = checked;
  await clearSignInFailures(db, normalized);
  await auditSession(db, { kind: "user", ...user, address }, "session.sign_in");
  return user;
}
