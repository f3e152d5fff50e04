import "server-only";
import { getServerSession } from "next-auth";
import { getToken } from "next-auth/jwt";
import { redirect } from "next/navigation";
import { NextRequest } from "next/server";
import { getDb } from "../db";
import { env } from "../env";
import { Forbidden, Invalid, Unauthorized } from "../errors";
import { toErrorResponse } from "../http/errors";
import { nulInParameter } from "../http/params";
import { authOptions, type Role } from "./options";
import { requestAddress, type Principal } from "./principal";
import { sessionSecret } from "./secret";
import { findSessionUser } from "./sessions";
import { findApiToken } from "./tokens";

export type { Principal } from "./principal";

/** Who is calling: a Bearer API token or the signed-in session; null when neither. */
export async function authenticate(request: Request): Promise<Principal | null> {
  const address = requestAddress(request.headers, env.web.RETRACE_TRUSTED_PROXIES);
  const header = request.headers.get("authorization");
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const token = match?.[1] ? await findApiToken(getDb(), match[1]) : null;
    // A token acts with its own role: a viewer token reads, an admin token may change databases.
    return token ? { kind: "token", id: token.id, name: token.name, role: token.role, address } : null;
  }
  // No session cookie, no session: answer 401 without decoding anything.
  if (!request.headers.get("cookie")?.includes("next-auth.session-token")) return null;
  // The cookie is read from the request itself (a copy of its headers only: its body stays the
  // handler's), and the session it names must be live in the store.
  const token = await getToken({
    req: new NextRequest(request.url, { headers: request.headers }),
    secret: sessionSecret(env.web.RETRACE_SECRET),
  });
  const user = token ? await findSessionUser(getDb(), token.sid) : null;
  return user ? { kind: "user", id: user.id, email: user.email, role: user.role, address } : null;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const MADE_HOW = "changes are made from Retrace's own pages or with an API token.";

/**
 * Refuses a state-changing request a browser sent from another origin with the user's cookie (a form or a no-cors
 * `text/plain` POST from any page, even one on the same host at another port). Browsers send `Origin` on such
 * requests; it must name this app's own host (`X-Forwarded-Host` behind a proxy, else `Host`). Without `Origin`,
 * `Sec-Fetch-Site` must not say the request came from another site or origin. A client that sends neither (curl,
 * scripts) is not a browser carrying a cookie it did not choose, and Bearer tokens are never sent by a browser on
 * its own, so neither is checked.
 */
export function refuseCrossSiteWrite(request: Request): void {
  if (SAFE_METHODS.has(request.method.toUpperCase())) return;
  const origin = request.headers.get("origin");
  if (origin !== null) {
    const own = request.headers.get("x-forwarded-host") ?? request.headers.get("host") ?? new URL(request.url).host;
    let host: string | null = null;
    try {
      host = origin === "null" ? null : new URL(origin).host;
    } catch {
      host = null;
    }
    if (host !== own) {
      const from = origin === "null" ? "an opaque origin" : "another origin";
      throw new Forbidden(`Refused a cross-site request from ${from}: ${MADE_HOW}`);
    }
    return;
  }
  const site = request.headers.get("sec-fetch-site");
  if (site === "cross-site" || site === "same-site") {
    throw new Forbidden(`Refused a cross-site request: ${MADE_HOW}`);
  }
}

/** Parameter names a client could mean as credentials (compared lowercased, `-` read as `_`). */
const CREDENTIAL_PARAMS = new Set([
  "access_token",
  "accesstoken",
  "api_token",
  "apitoken",
  "api_key",
  "apikey",
  "auth",
  "auth_token",
  "authorization",
  "bearer",
  "session_token",
  "next_auth.session_token",
]);
// An API token (lib/crypto/secrets.ts: `rt_` and 43 base64url characters), bare or as a Bearer header's value.
const API_TOKEN_TEXT = /^\s*(bearer\s+)?rt_[A-Za-z0-9_-]{43}\s*$/i;

/**
 * Refuses (400, naming the parameter) a URL that carries a credential: an API token in any parameter (`?token=`,
 * `?q=` alike) or a parameter named like one. A URL ends up in access logs, proxies, browser history and Referer
 * headers; a token there has leaked, so it is refused rather than used, whoever the request is otherwise from.
 * /api/changes/live's own `token` is a position in the trail, not a credential, and never looks like one.
 * A NUL character, which no PostgreSQL text can hold, is refused here too, for every route at once.
 */
export function refuseHostileUrl(request: Request): void {
  for (const [name, value] of new URL(request.url).searchParams) {
    if (CREDENTIAL_PARAMS.has(name.toLowerCase().replace(/-/g, "_")) || API_TOKEN_TEXT.test(value)) {
      const message = "credentials are not accepted in the URL; send the header Authorization: Bearer <token>";
      throw new Invalid(`${name}: ${message}`, [{ path: name, message }]);
    }
    if (name.includes("\u0000") || value.includes("\u0000")) throw nulInParameter(name);
  }
}

/** No /api answer is kept by the browser or a proxy: they carry audit data and secrets (a new token's). */
export function noStore(response: Response): Response {
  try {
    response.headers.set("cache-control", "no-store");
    return response;
  } catch {
    // Headers of a fetched Response are immutable: answer a copy.
    const copy = new Response(response.body, response);
    copy.headers.set("cache-control", "no-store");
    return copy;
  }
}

type RouteContext<P> = { params: Promise<P> };
type Route<P> = (request: Request, context: RouteContext<P>) => Promise<Response>;
type PublicRoute = (request: Request, context?: unknown) => Promise<Response>;

/**
 * Wraps an /api route handler: authenticates (401 JSON otherwise), optionally requires the
 * admin role, and turns thrown errors into JSON responses through toErrorResponse. A public
 * route (`{ public: true }`: /api/setup, before anyone can sign in) skips authentication and
 * keeps the error handling. Every answer is `Cache-Control: no-store`; a URL carrying a credential is refused.
 */
export function apiRoute<P = Record<string, never>>(
  handler: (request: Request, ctx: { params: P; principal: Principal }) => Promise<Response>,
  options?: { role?: Role },
): Route<P>;
export function apiRoute(handler: (request: Request) => Promise<Response>, options: { public: true }): PublicRoute;
export function apiRoute<P>(
  handler: (request: Request, ctx: { params: P; principal: Principal }) => Promise<Response>,
  options: { role?: Role; public?: true } = {},
): Route<P> | PublicRoute {
  if (options.public) {
    return async (request: Request): Promise<Response> => {
      try {
        refuseHostileUrl(request);
        refuseCrossSiteWrite(request);
        return noStore(await (handler as (request: Request) => Promise<Response>)(request));
      } catch (error) {
        return noStore(toErrorResponse(error));
      }
    };
  }
  return async (request: Request, context: RouteContext<P>): Promise<Response> => {
    try {
      refuseHostileUrl(request);
      const principal = await authenticate(request);
      if (!principal) throw new Unauthorized();
      if (principal.kind === "user") refuseCrossSiteWrite(request);
      if (options.role === "admin" && principal.role !== "admin") throw new Forbidden();
      return noStore(await handler(request, { params: await context.params, principal }));
    } catch (error) {
      return noStore(toErrorResponse(error));
    }
  };
}

/**
 * For server components: the signed-in user, or a redirect to /login. getServerSession runs the
 * JWT callback, which refuses a session that is over (lib/auth/sessions.ts).
 */
export async function requireUser() {
  const session = await getServerSession(authOptions());
  if (!session?.user?.id) redirect("/login");
  return session.user;
}

/** For admin-only pages: the signed-in admin; a viewer is sent to /forbidden, nobody to /login. */
export async function requireAdmin() {
  const user = await requireUser();
  if (user.role !== "admin") redirect("/forbidden");
  return user;
}
