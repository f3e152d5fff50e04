import type { Role } from "./roles";

/**
 * Who is calling: a signed-in user or an API token, each with the role it acts with, and the address the request
 * came from (requestAddress).
 */
export type Principal =
  | { kind: "user"; id: string; email: string; role: Role; address: string | null }
  | { kind: "token"; id: string; name: string; role: Role; address: string | null };

/**
 * The client's address: the `X-Forwarded-For` entry `trustedProxies` places from the right. The web server appends
 * the address of the connection it accepted to that header (bin/forwarded-for.mjs), so with no proxy in front (0)
 * it is the connection's address, and with N proxies that each append their peer's address it is the address the
 * outermost one saw. Entries further left are the client's own to forge and are ignored. With fewer entries than
 * that (a proxy that did not append), the leftmost one.
 */
export function requestAddress(
  headers: Headers | Record<string, unknown> | undefined,
  trustedProxies: number,
): string | null {
  const raw = headers instanceof Headers ? headers.get("x-forwarded-for") : headers?.["x-forwarded-for"];
  if (typeof raw !== "string") return null;
  const entries = raw.split(",").map((entry) => entry.trim());
  const chosen = entries[Math.max(0, entries.length - 1 - trustedProxies)];
  return chosen ? chosen.slice(0, 100) : null;
}
