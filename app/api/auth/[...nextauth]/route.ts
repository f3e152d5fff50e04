import NextAuth from "next-auth";
import { NextRequest } from "next/server";
import { authOptions } from "@/lib/auth/options";
import { requestAddress } from "@/lib/auth/principal";
import { env } from "@/lib/env";
import { noStore, refuseHostileUrl } from "@/lib/auth/session";
import { MAX_PUBLIC_BODY_BYTES, readBodyText } from "@/lib/http/body";
import { toErrorResponse } from "@/lib/http/errors";

export const dynamic = "force-dynamic";

/**
 * next-auth's own endpoints (sign-in, sign-out, session, CSRF). Before anyone is signed in, so a body is read only
 * up to MAX_PUBLIC_BODY_BYTES (413 past it, without holding the rest) and handed on as a fresh request.
 */
async function handler(request: NextRequest, context: { params: Promise<{ nextauth: string[] }> }) {
  try {
    refuseHostileUrl(request);
    let bounded = request;
    if (request.method !== "GET" && request.method !== "HEAD") {
      const body = await readBodyText(request, MAX_PUBLIC_BODY_BYTES);
      const headers = new Headers(request.headers);
      headers.delete("content-length");
      bounded = new NextRequest(request.url, { method: request.method, headers, body });
    }
    const address = requestAddress(request.headers, env.web.RETRACE_TRUSTED_PROXIES);
    return noStore(await NextAuth(authOptions({ address }))(bounded, context));
  } catch (error) {
    return noStore(toErrorResponse(error));
  }
}

export { handler as GET, handler as POST };
