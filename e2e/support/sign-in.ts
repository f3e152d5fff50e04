import { expect, type APIRequestContext } from "@playwright/test";

/** The admin the journey creates; later specs sign in as them. */
export const ADMIN = { email: "admin@example.com", password: "correct horse battery" };

/** Signs in as the journey's admin (next-auth's credentials endpoint); the cookie lands in the page's context. */
export async function signIn(request: APIRequestContext) {
  const { csrfToken } = (await (await request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const response = await request.post("/api/auth/callback/credentials", {
    form: { csrfToken, ...ADMIN, json: "true" },
  });
  expect(response.ok()).toBe(true);
}
