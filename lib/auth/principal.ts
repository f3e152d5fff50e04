import type { Role } from "./roles";

/**
 * Who is calling: a signed-in user or an API token, each with the role it acts with, and the address the request
 * came from (the first X-Forwarded-For entry, which Next.js sets from the socket when no proxy did).
 */
export type Principal =
  | { kind: "user"; id: string; email: string; role: Role; address: string | null }
  | { kind: "token"; id: string; name: string; role: Role; address: string | null };

/** The client's address as the request tells it. */
export function requestAddress(headers: Headers | Record<string, unknown> | undefined): string | null {
  const raw = headers instanceof Headers ? headers.get("x-forwarded-for") : headers?.["x-forwarded-for"];
  const first = typeof raw === "string" ? raw.split(",")[0]?.trim() : undefined;
  return first ? first.slice(0, 100) : null;
}
