import fs from "node:fs";
import path from "node:path";
import { expect, type APIRequestContext } from "@playwright/test";
import { setupCode } from "../../lib/auth/setup-code";

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

/**
 * The code /setup asks for on the instance under test: what `retrace start` printed, derived from the secret it
 * generated into its data dir (playwright.config.ts).
 */
export function e2eSetupCode(): string {
  return setupCode(fs.readFileSync(path.join(".test-data", "e2e-store", "secret"), "utf8").trim());
}
