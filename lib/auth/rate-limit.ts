import { and, count, eq, lt, sql } from "drizzle-orm";
import type { Queryable } from "../db/client";
import { signInFailures } from "../db/schema";

/**
 * Sign-in attempts are limited by the refusals the store holds: at most ACCOUNT_LIMIT wrong passwords for one
 * email and ADDRESS_LIMIT from one address within WINDOW_MINUTES. Past either limit every attempt is refused,
 * the right password included, until the oldest refusal leaves the window. A successful sign-in clears the
 * account's count. Counting in the store holds across restarts and any number of web servers.
 */
export const SIGN_IN_LIMITS = { windowMinutes: 15, account: 5, address: 20 };

/** What the sign-in form shows when an attempt is refused by the limit (never whether the password was right). */
export class SignInLimited extends Error {
  /** `limit`: which limit refuses: the address's (whatever email it tries) or else the account's. */
  constructor(
    readonly retryAfterMinutes: number,
    readonly limit: "account" | "address" = "account",
  ) {
    super(`Too many failed sign-ins. Try again in ${retryAfterMinutes} minute${retryAfterMinutes === 1 ? "" : "s"}.`);
  }
}

const ANY_ADDRESS = "unknown";

async function retryAfter(db: Queryable, column: "email" | "address", value: string, limit: number) {
  const window = sql`now() - make_interval(mins => ${SIGN_IN_LIMITS.windowMinutes})`;
  const [row] = await db
    .select({
      n: count(),
      // When the limit-th most recent refusal leaves the window, one more attempt is allowed.
      freeAt: sql<number>`ceil(extract(epoch from (
        (array_agg(${signInFailures.at} order by ${signInFailures.at} desc))[${limit}]
          + make_interval(mins => ${SIGN_IN_LIMITS.windowMinutes}) - now())) / 60)::int`,
    })
    .from(signInFailures)
    .where(and(eq(signInFailures[column], value), sql`${signInFailures.at} > ${window}`));
  if (!row || row.n < limit) return null;
  return Math.max(1, Number(row.freeAt));
}

/** Throws SignInLimited when this email or address may not try now. */
export async function checkSignInAllowed(db: Queryable, email: string, address: string | null): Promise<void> {
  const account = await retryAfter(db, "email", email, SIGN_IN_LIMITS.account);
  const fromAddress = await retryAfter(db, "address", address ?? ANY_ADDRESS, SIGN_IN_LIMITS.address);
  const wait = Math.max(account ?? 0, fromAddress ?? 0);
  if (wait > 0) throw new SignInLimited(wait, fromAddress !== null ? "address" : "account");
}

export async function recordSignInFailure(db: Queryable, email: string, address: string | null): Promise<void> {
  await db
    .delete(signInFailures)
    .where(lt(signInFailures.at, sql`now() - make_interval(mins => ${SIGN_IN_LIMITS.windowMinutes})`));
  await db.insert(signInFailures).values({ email, address: address ?? ANY_ADDRESS });
}

export async function clearSignInFailures(db: Queryable, email: string): Promise<void> {
  await db.delete(signInFailures).where(eq(signInFailures.email, email));
}
