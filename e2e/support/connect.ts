import { expect, type APIRequestContext } from "@playwright/test";

type Source = { port: number; password: string | undefined };

/**
 * Connects `database` on a test source server through the API (POST /api/databases, as the signed-in `request`),
 * tracking `tables`; answers the new database's id.
 */
export async function connectDatabase(
  request: APIRequestContext,
  source: Source,
  database: string,
  tables: string[],
  environment = "test",
): Promise<string> {
  const connected = await request.post("/api/databases", {
    data: {
      host: "localhost",
      port: source.port,
      database,
      username: "postgres",
      password: source.password,
      environment,
      tables,
    },
  });
  expect(connected.status(), await connected.text()).toBe(201);
  return ((await connected.json()) as { database: { id: string } }).database.id;
}
