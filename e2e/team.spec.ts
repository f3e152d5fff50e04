import { expect, test, type Page } from "@playwright/test";
import { ADMIN, signIn } from "./support/sign-in";

/**
 * Team access as people use it: an admin adds a viewer on the Users page and creates, uses and revokes an API
 * token on the Tokens page (its secret shown once); the viewer signs in through the form and sees no admin
 * pages; the Activity page shows what the admin did; repeated wrong passwords get the rate limit's message.
 */

const VIEWER = { email: "viewer.e2e@example.com", password: "viewer e2e password" };
const SCREENS = process.env.SCREENS_DIR;

/** With SCREENS_DIR set, the page at a desktop and a phone width, for a person to look at. */
async function screens(page: Page, name: string) {
  if (!SCREENS) return;
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SCREENS}/${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 720 });
}

test("an admin adds a viewer, who browses but cannot reach admin pages or actions", async ({
  page,
  browser,
  baseURL,
}) => {
  await signIn(page.request);
  await page.goto("/changes");
  const main = page.getByRole("navigation", { name: "Main" });
  await main.getByRole("link", { name: "Users" }).click();
  await expect(page).toHaveURL(/\/settings\/users$/);
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();
  await expect(page.getByRole("row", { name: new RegExp(ADMIN.email) })).toContainText("(you)");

  // A bad password is refused by the server with the field named.
  await page.getByLabel("Email").fill(VIEWER.email);
  await page.getByLabel("Initial password").fill("short");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(page.getByText("Password must be at least 8 characters")).toBeVisible();

  await page.getByLabel("Initial password").fill(VIEWER.password);
  await expect(page.getByLabel("Role", { exact: true })).toHaveValue("viewer");
  await page.getByRole("button", { name: "Add user" }).click();
  await expect(
    page.getByRole("status").filter({ hasText: `${VIEWER.email} can now sign in as viewer.` }),
  ).toBeVisible();
  const row = page.getByRole("row", { name: new RegExp(VIEWER.email) });
  await expect(row).toContainText("Active");
  await expect(row.getByLabel(`Role of ${VIEWER.email}`)).toHaveValue("viewer");
  await screens(page, "users");

  // The only admin cannot demote themself: the server says why and the role stays.
  const adminRow = page.getByRole("row", { name: new RegExp(ADMIN.email) });
  await adminRow.getByLabel(`Role of ${ADMIN.email}`).selectOption("viewer");
  await expect(adminRow.getByRole("alert")).toContainText("last active admin");
  await expect(adminRow.getByLabel(`Role of ${ADMIN.email}`)).toHaveValue("admin");

  // The viewer signs in through the form, in a browser of their own.
  const context = await browser.newContext({ baseURL });
  try {
    const viewer = await context.newPage();
    await viewer.goto("/login");
    await viewer.getByLabel("Email").fill(VIEWER.email);
    await viewer.getByLabel("Password").fill(VIEWER.password);
    await viewer.getByRole("button", { name: "Sign in" }).click();
    await expect(viewer).toHaveURL(/\/changes$/);
    const nav = viewer.getByRole("navigation", { name: "Main" });
    await expect(nav.getByRole("link", { name: "Databases" })).toBeVisible();
    for (const name of ["Users", "Tokens", "Activity"]) await expect(nav.getByRole("link", { name })).toHaveCount(0);

    await viewer.goto("/databases");
    await expect(viewer.getByRole("heading", { name: "Databases" })).toBeVisible();
    await expect(viewer.getByRole("link", { name: "Connect PostgreSQL Database" })).toHaveCount(0);
    await expect(viewer.getByRole("button", { name: /Pause|Remove/ })).toHaveCount(0);

    for (const path of ["/settings/users", "/settings/tokens", "/activity", "/databases/new"]) {
      await viewer.goto(path);
      await expect(viewer).toHaveURL(/\/forbidden$/);
      await expect(viewer.getByRole("heading", { name: "This page is for admins" })).toBeVisible();
    }
    await screens(viewer, "forbidden");
    expect((await context.request.get("/api/users")).status()).toBe(403);
    expect((await context.request.post("/api/databases", { data: {} })).status()).toBe(403);
  } finally {
    await context.close();
  }

  // Deactivated, the viewer can no longer sign in; reactivated, they can.
  await page.reload();
  const viewerRow = page.getByRole("row", { name: new RegExp(VIEWER.email) });
  await viewerRow.getByRole("button", { name: "Deactivate" }).click();
  await viewerRow.getByRole("button", { name: `Deactivate ${VIEWER.email}` }).click();
  await expect(viewerRow).toContainText("Deactivated");
  await viewerRow.getByRole("button", { name: "Reactivate" }).click();
  await expect(viewerRow).toContainText("Active");
});

test("an API token is shown once, works with its role, shows its last use, and is revoked", async ({ page }) => {
  await signIn(page.request);
  await page.goto("/settings/tokens");
  await expect(page.getByRole("heading", { name: "API tokens", exact: true })).toBeVisible();
  await page.getByLabel("Name").fill("e2e read-only");
  await expect(page.getByLabel("Access")).toHaveValue("viewer");
  await page.getByRole("button", { name: "Create token" }).click();
  const secretBox = page.getByTestId("new-token-secret");
  await expect(secretBox).toBeVisible();
  const secret = (await secretBox.textContent())?.trim() ?? "";
  expect(secret.length).toBeGreaterThan(20);
  await expect(page.getByText("it is shown only this once")).toBeVisible();
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.getByRole("button", { name: "Copy token" }).click();
  await expect(page.getByRole("button", { name: "Copy token" })).toHaveText(/Copied|Copy failed/);
  await screens(page, "tokens-created");

  const row = page.getByRole("row", { name: /e2e read-only/ });
  await expect(row).toContainText("read only");
  await expect(row).toContainText("Never");

  // A Bearer token is what the API goes by, whatever cookie comes with it.
  const auth = { authorization: `Bearer ${secret}` };
  expect((await page.request.fetch("/api/databases", { headers: auth })).status()).toBe(200);
  expect((await page.request.fetch("/api/databases", { method: "POST", headers: auth, data: {} })).status()).toBe(403);

  await page.getByRole("button", { name: "Done" }).click();
  await expect(secretBox).toHaveCount(0);
  await page.reload();
  await expect(page.locator("body")).not.toContainText(secret);
  await expect(row).not.toContainText("Never");
  await screens(page, "tokens");

  await row.getByRole("button", { name: "Revoke" }).click();
  await row.getByRole("button", { name: "Revoke “e2e read-only”" }).click();
  await expect(row).toContainText("Revoked");
  expect((await page.request.fetch("/api/databases", { headers: auth })).status()).toBe(401);

  // The Activity page shows what was done, filterable by action.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Activity" }).click();
  await expect(page).toHaveURL(/\/activity$/);
  const log = page.getByRole("list", { name: "Activity" });
  await expect(log).toContainText(`${ADMIN.email} revoked an API token e2e read-only`);
  await expect(log).toContainText(`${ADMIN.email} created an API token e2e read-only`);
  await expect(log).toContainText(`created a user ${VIEWER.email}`);
  await screens(page, "activity");
  await page.getByLabel("Action").selectOption("token.revoke");
  await expect(page).toHaveURL(/action=token\.revoke/);
  // Only revocations are listed (other specs, e.g. the command line's, may have revoked tokens too); this one once.
  const revocations = log.getByRole("listitem");
  await expect(revocations.filter({ hasText: "revoked an API token e2e read-only" })).toHaveCount(1);
  await expect(revocations.filter({ hasNotText: "revoked an API token" })).toHaveCount(0);
});

test("repeated wrong passwords are refused with a clear message", async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL });
  try {
    const page = await context.newPage();
    await page.goto("/login");
    // The form's own alert (Next.js keeps an empty route announcer with that role too).
    const alert = page.locator("form").getByRole("alert");
    await page.getByLabel("Email").fill("nobody.e2e@example.com");
    for (let i = 0; i < 5; i++) {
      await page.getByLabel("Password").fill(`wrong ${i}`);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect(alert).toHaveText("Email or password is incorrect.");
    }
    await page.getByLabel("Password").fill("wrong again");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(alert).toHaveText(/^Too many failed sign-ins\. Try again in \d+ minutes?\.$/);
  } finally {
    await context.close();
  }
});
