const FALLBACK = "/changes";

/**
 * Where to go after signing in: only a path on this site (an open redirect would let a link
 * to /login forward a fresh session to another site). Absolute URLs count only when their
 * origin is ours; /login and /setup themselves fall back to /changes.
 */
export function safeCallbackUrl(raw: string | null | undefined, origin = "http://retrace.invalid"): string {
  if (!raw || /^\s|[\\\u0000-\u001f]/.test(raw)) return FALLBACK;
  let url: URL;
  try {
    url = new URL(raw, origin);
  } catch {
    return FALLBACK;
  }
  if (url.origin !== new URL(origin).origin) return FALLBACK;
  if (url.pathname === "/login" || url.pathname === "/setup") return FALLBACK;
  return `${url.pathname}${url.search}${url.hash}`;
}
