import { startTestServer } from "../test/support/postgres";

/** A real PostgreSQL server (wal_level=logical) that plays the user's database. */
export default async function globalSetup() {
  const source = await startTestServer();
  await source.createDatabase("shop");
  process.env.E2E_SOURCE_PORT = String(source.port);
  process.env.E2E_SOURCE_PASSWORD = source.password;
  return async () => {
    await source.stop();
  };
}
