import { expect, test, type Page } from "@playwright/test";
import { e2eSetupCode } from "./support/sign-in";

const ADMIN = { email: "admin@example.com", password: "correct horse battery" };

/** Signs in as the admin, creating it first when this is a brand-new instance. */
async function signIn(page: Page) {
  await page.goto("/login");
  if (page.url().endsWith("/setup")) {
    await page.getByLabel("Setup code").fill(e2eSetupCode());
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel("Password", { exact: true }).fill(ADMIN.password);
    await page.getByLabel("Confirm password").fill(ADMIN.password);
    await page.getByRole("button", { name: "Create admin" }).click();
    await expect(page).toHaveURL(/\/databases\/new$/);
    return;
  }
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(ADMIN.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/changes$/);
}

test("signing out ends the session on the server: its saved cookie opens nothing afterwards", async ({
  page,
  browser,
  baseURL,
}) => {
  await signIn(page);
  await page.goto("/databases");
  await expect(page.getByRole("link", { name: "Databases" })).toBeVisible();
  const saved = await page.context().storageState();
  expect(saved.cookies.map((c) => c.name)).toContain("next-auth.session-token");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);

  // Someone who copied the cookie before the sign-out replays it.
  const replay = await browser.newContext({ storageState: saved, baseURL });
  try {
    const stolen = await replay.newPage();
    await stolen.goto("/databases");
    await expect(stolen).toHaveURL(/\/login\?callbackUrl=%2Fdatabases$/);
    await expect(stolen.getByRole("heading", { name: "Sign in to Retrace" })).toBeVisible();
    const api = await replay.request.get("/api/databases");
    expect(api.status()).toBe(401);
  } finally {
    await replay.close();
  }
});
