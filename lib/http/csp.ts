/**
 * The Content-Security-Policy of a page: scripts run only with this response's nonce (Next.js puts it on every
 * script it renders when the request carries the policy) and what they load ('strict-dynamic'), so a script that
 * reached the HTML any other way does not run. Styles stay open to inline ones (React's style attributes).
 * `development` adds 'unsafe-eval', which React's dev build needs for its error overlays.
 */
export function pagePolicy(nonce: string, development: boolean): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${development ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join("; ");
}

/** A fresh nonce per response: 128 random bits. */
export function newNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
}
