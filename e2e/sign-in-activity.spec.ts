import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { ADMIN, signIn } from "./support/sign-in";

/**
 * Sign-ins are audited: the admin signs in through the form, signs out, is refused once with a wrong password, and
 * signs in again; the Activity page shows each, the refusal with its reason and no password. A flood of refusals
 * past the limit is one row that counts them.
 */

const SCREENS = process.env.SCREENS_DIR;
const WRONG = "not the admin password";

async function screens(page: Page, name: string) {
  if (!SCREENS) return;
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SCREENS}/${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 720 });
}

async function signInWithForm(page: Page, password: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(ADMIN.email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("the Activity page shows sign-ins, sign-outs and refused sign-ins", async ({ page }) => {
  await signInWithForm(page, ADMIN.password);
  await expect(page).toHaveURL(/\/changes$/);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/login/);

  await signInWithForm(page, WRONG);
  await expect(page.locator("form").getByRole("alert")).toHaveText("Email or password is incorrect.");

  await signInWithForm(page, ADMIN.password);
  await expect(page).toHaveURL(/\/changes$/);
  await page.goto("/activity?action=session");
  const log = page.getByRole("list", { name: "Activity" });
  const items = log.getByRole("listitem");
  // Newest first: this sign-in, the refusal, the sign-out, the first sign-in.
  await expect(items.nth(0)).toContainText(`${ADMIN.email} signed in`);
  await expect(items.nth(1)).toContainText(`${ADMIN.email} (not signed in) failed to sign in`);
  await expect(items.nth(1)).toContainText("reason: wrong password");
  await expect(items.nth(1)).toContainText("session.sign_in_failed");
  await expect(items.nth(2)).toContainText(`${ADMIN.email} signed out`);
  await expect(items.nth(3)).toContainText(`${ADMIN.email} signed in`);
  for (let i = 0; i < 4; i++) await expect(items.nth(i)).toContainText(/from \S+/);
  await expect(log).not.toContainText(WRONG);
  await expect(page.getByLabel("Action")).toHaveValue("session");
  await screens(page, "activity-sign-ins");
});

/** One sign-in through next-auth's credentials endpoint, as the form makes it: the error it answers with. */
async function refusal(request: APIRequestContext, email: string): Promise<string | null> {
  const { csrfToken } = (await (await request.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const response = await request.post("/api/auth/callback/credentials", {
    form: { csrfToken, email, password: WRONG, json: "true" },
  });
  const { url } = (await response.json()) as { url: string };
  return new URL(url).searchParams.get("error");
}

test("a flood of refused sign-ins past the limit is one row with its count", async ({ page }) => {
  // No such account: the limit's five refusals, then three more the limit refuses, from this browser's address.
  const email = `flood-${Date.now()}@example.com`;
  for (let i = 0; i < 5; i++) expect(await refusal(page.request, email)).toBe("CredentialsSignin");
  for (let i = 0; i < 3; i++) expect(await refusal(page.request, email)).toMatch(/^Too many failed sign-ins/);

  await signIn(page.request);
  await page.goto(`/activity?action=session.sign_in_failed&actor=${encodeURIComponent(email)}`);
  const items = page.getByRole("list", { name: "Activity" }).getByRole("listitem");
  await expect(items).toHaveCount(6);
  // Newest first: the rolled-up row was made at the first refusal by the limit, after the five.
  await expect(items.nth(0)).toContainText(`${email} (not signed in) failed to sign in ×3 (rate limited)`);
  await expect(items.nth(0)).toContainText(/first \d{4}-\d\d-\d\d \S+ UTC, last \d{4}-\d\d-\d\d \S+ UTC/);
  await expect(items.nth(0)).not.toContainText("count");
  for (let i = 1; i < 6; i++) await expect(items.nth(i)).toContainText("reason: no such user");
  await screens(page, "signin-flood-activity");
});
