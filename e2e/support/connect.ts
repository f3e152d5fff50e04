import { expect, type APIRequestContext } from "@playwright/test";
import { signIn } from "./sign-in";

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

/**
 * A spec's teardown: removes the database it connected (if it got that far), signed in afresh (afterAll has no
 * page), then stops its source server.
 */
export async function removeDatabaseAndStop(
  playwright: { request: { newContext(options: { baseURL?: string }): Promise<APIRequestContext> } },
  baseURL: string | undefined,
  databaseId: string | undefined,
  source: { stop(): Promise<void> } | undefined,
): Promise<void> {
  if (databaseId) {
    const request = await playwright.request.newContext({ baseURL });
    await signIn(request);
    expect((await request.delete(`/api/databases/${databaseId}`)).ok()).toBe(true);
    await request.dispose();
  }
  await source?.stop();
}
