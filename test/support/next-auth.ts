import NextAuth from "next-auth";

/** A cookie as a Set-Cookie header sets it: its name, value and attributes (lowercased names). */
export type Cookie = { name: string; value: string; attributes: Record<string, string | true>; header: string };

function parseSetCookie(header: string): Cookie {
  const [pair = "", ...parts] = header.split(";").map((part) => part.trim());
  const at = pair.indexOf("=");
  const attributes: Record<string, string | true> = {};
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq < 0) attributes[part.toLowerCase()] = true;
    else attributes[part.slice(0, eq).toLowerCase()] = part.slice(eq + 1);
  }
  return { name: pair.slice(0, at), value: decodeURIComponent(pair.slice(at + 1)), attributes, header };
}

/**
 * One request to next-auth's handler with Retrace's options, the way Next.js hands it a request and a response
 * (its API-route form: the app-route form app/api/auth/[...nextauth]/route.ts uses needs a live request scope);
 * answers its status, body and the Set-Cookie headers sent. `address` is the client's X-Forwarded-For, handed to
 * authOptions as that route does.
 */
export async function nextAuth(
  origin: string,
  action: string,
  init: { body?: Record<string, string>; cookies?: Cookie[]; address?: string } = {},
) {
  const { authOptions } = await import("@/lib/auth/options");
  const { requestAddress } = await import("@/lib/auth/principal");
  const sent: Record<string, unknown> = {};
  let status = 200;
  let body: unknown;
  const response = {
    getHeader: (name: string) => sent[name.toLowerCase()],
    setHeader(name: string, value: unknown) {
      sent[name.toLowerCase()] = value;
      return response;
    },
    status(code: number) {
      status = code;
      return response;
    },
    send(value: unknown) {
      body = value;
    },
    json(value: unknown) {
      body = value;
    },
    end() {},
  };
  const headers: Record<string, string> = {
    host: new URL(origin).host,
    "content-type": "application/x-www-form-urlencoded",
    ...(init.address ? { "x-forwarded-for": init.address } : {}),
  };
  const request = {
    method: init.body ? "POST" : "GET",
    query: { nextauth: action.split("/") },
    body: init.body ?? {},
    cookies: Object.fromEntries((init.cookies ?? []).map((c) => [c.name, c.value])),
    headers,
  };
  const options = authOptions({ address: requestAddress(headers, 0) });
  const handler = NextAuth(options) as unknown as (req: unknown, res: unknown) => Promise<void>;
  await handler(request, response);
  const raw = sent["set-cookie"];
  const setCookies = Array.isArray(raw) ? (raw as string[]) : typeof raw === "string" ? [raw] : [];
  return { status, body: body as Record<string, string> | undefined, cookies: setCookies.map(parseSetCookie) };
}

/** Signs in with the form's fields through next-auth; answers the result and every cookie it set (CSRF, session). */
export async function nextAuthSignIn(
  origin: string,
  credentials: { email: string; password: string },
  address?: string,
) {
  const csrf = await nextAuth(origin, "csrf", { address });
  const csrfToken = csrf.body?.csrfToken ?? "";
  const body = { csrfToken, ...credentials, json: "true" };
  const signedIn = await nextAuth(origin, "callback/credentials", { body, cookies: csrf.cookies, address });
  return { ...signedIn, cookies: [...csrf.cookies, ...signedIn.cookies] };
}

/** Signs out the session these cookies carry through next-auth. */
export async function nextAuthSignOut(origin: string, cookies: Cookie[], address?: string) {
  const csrfToken = (await nextAuth(origin, "csrf", { cookies, address })).body?.csrfToken ?? "";
  return nextAuth(origin, "signout", { body: { csrfToken, json: "true" }, cookies, address });
}
