import "server-only";
import { getServerSession } from "next-auth";
import { redirect } from "next/navigation";
import { getDb } from "../db";
import { Forbidden, Unauthorized } from "../errors";
import { toErrorResponse } from "../http/errors";
import { authOptions, type Role } from "./options";
import { findApiToken } from "./tokens";

export type Principal =
  { kind: "user"; id: string; email: string; role: Role } | { kind: "token"; id: string; name: string; role: Role };

/** Who is calling: a Bearer API token or the signed-in session; null when neither. */
export async function authenticate(request: Request): Promise<Principal | null> {
  const header = request.headers.get("authorization");
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const token = match?.[1] ? await findApiToken(getDb(), match[1]) : null;
    // API tokens act with admin rights; scoped tokens are future work.
    return token ? { kind: "token", id: token.id, name: token.name, role: "admin" } : null;
  }
  // No session cookie, no session: answer 401 without next/headers (which also lets route
  // handlers be called directly in integration tests, outside a Next request scope).
  if (!request.headers.get("cookie")?.includes("next-auth.session-token")) return null;
  const session = await getServerSession(authOptions());
  const user = session?.user;
  if (!user?.id) return null;
  return { kind: "user", id: user.id, email: user.email ?? "", role: user.role };
}

type RouteContext<P> = { params: Promise<P> };
type Route<P> = (request: Request, context: RouteContext<P>) => Promise<Response>;
type PublicRoute = (request: Request, context?: unknown) => Promise<Response>;

/**
 * Wraps an /api route handler: authenticates (401 JSON otherwise), optionally requires the
 * admin role, and turns thrown errors into JSON responses through toErrorResponse. A public
 * route (`{ public: true }`: /api/setup, before anyone can sign in) skips authentication and
 * keeps the error handling.
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
        return await (handler as (request: Request) => Promise<Response>)(request);
      } catch (error) {
        return toErrorResponse(error);
      }
    };
  }
  return async (request: Request, context: RouteContext<P>): Promise<Response> => {
    try {
      const principal = await authenticate(request);
      if (!principal) throw new Unauthorized();
      if (options.role === "admin" && principal.role !== "admin") throw new Forbidden();
      return await handler(request, { params: await context.params, principal });
    } catch (error) {
      return toErrorResponse(error);
    }
  };
}

/** For server components: the signed-in user, or a redirect to /login. */
export async function requireUser() {
  const session = await getServerSession(authOptions());
  if (!session?.user?.id) redirect("/login");
  return session.user;
}
