import { getToken } from "next-auth/jwt";
import { NextResponse, type NextRequest } from "next/server";
import { isAdminPage } from "@/lib/auth/pages";
import { sessionSecret } from "@/lib/auth/secret";
import { findSessionUser } from "@/lib/auth/sessions";
import { getDb } from "@/lib/db";
import { env } from "@/lib/env";
import { newNonce, pagePolicy } from "@/lib/http/csp";

/** Pages anyone may open: signing in, and setting up a brand-new instance. */
const PUBLIC_PAGES = new Set(["/login", "/setup"]);

/**
 * Every page gets a Content-Security-Policy with a fresh script nonce (lib/http/csp.ts): set on the request, Next.js
 * puts the nonce on the scripts it renders, and on the response, the browser runs no other script.
 *
 * Pages need a live session; without one the visitor goes to /login (which sends a brand-new
 * instance on to /setup). A cookie is not enough: the session it names must still be live in the
 * store (signed out, expired, user deactivated or password changed: it is not). Next 16 runs the
 * proxy in the Node.js runtime, so that is one primary-key lookup on the web server's pool.
 * Admin pages (lib/auth/pages.ts) send a viewer to /forbidden. /api routes authenticate themselves and answer
 * 401 JSON.
 */
export async function proxy(request: NextRequest) {
  if (PUBLIC_PAGES.has(request.nextUrl.pathname)) return withPolicy(request);
  const token = await getToken({ req: request, secret: sessionSecret(env.web.RETRACE_SECRET) });
  const user = token ? await findSessionUser(getDb(), token.sid) : null;
  if (user) {
    if (user.role !== "admin" && isAdminPage(request.nextUrl.pathname)) {
      return NextResponse.redirect(new URL("/forbidden", request.url));
    }
    return withPolicy(request);
  }
  const login = new URL("/login", request.url);
  const target = request.nextUrl.pathname + request.nextUrl.search;
  if (target !== "/") login.searchParams.set("callbackUrl", target);
  return NextResponse.redirect(login);
}

/** Lets the page render, with this response's policy on the request (for Next.js) and on the response. */
function withPolicy(request: NextRequest): NextResponse {
  // NODE_ENV is Next's own build mode (inlined at build), not configuration: not one of lib/env.ts's settings.
  const policy = pagePolicy(newNonce(), process.env.NODE_ENV === "development");
  const headers = new Headers(request.headers);
  headers.set("content-security-policy", policy);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set("content-security-policy", policy);
  return response;
}

// The icon is public: the sign-in and setup pages show it too (app/icon.svg, served as /icon.svg?<hash>).
export const config = {
  matcher: ["/((?!api/|_next/|favicon.ico|icon.svg).*)"],
};
