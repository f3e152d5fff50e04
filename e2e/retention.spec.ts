import { expect, test, type Page } from "@playwright/test";
import { startTestServer, type TestServer } from "../test/support/postgres";
import { connectDatabase, removeDatabaseAndStop } from "./support/connect";
import { checkPage, WIDTHS } from "./support/layout";
import { signIn } from "./support/sign-in";

/**
 * Retention settings as an admin sets them: the test environment kept 7 days, public.orders 90 days of its own,
 * saved, and still there after a reload; what that means for stored data is said before saving. A viewer reads
 * the same page but cannot change it (nor through the API). Its own source server, connected in "test"; the
 * rules and the database are removed at the end.
 */

// A fresh address each run: a retried test signs up its viewer again.
const VIEWER = { email: `retention.viewer.${Date.now()}@example.com`, password: "retention viewer password" };
const SCREENS = process.env.SCREENS_DIR;

let source: TestServer;
let databaseId: string | undefined;

async function screens(page: Page, name: string) {
  if (!SCREENS) return;
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SCREENS}/${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 720 });
}

test.beforeAll(async ({ playwright, baseURL }) => {
  source = await startTestServer();
  await source.createDatabase("ledger");
  await source.query(
    "create table public.orders (id int primary key, total numeric); create table public.lines (id int primary key)",
    [],
    "ledger",
  );
  const request = await playwright.request.newContext({ baseURL });
  await signIn(request);
  databaseId = await connectDatabase(request, source, "ledger", ["public.orders", "public.lines"], "test");
  await source.query(
    "insert into public.orders values (1, 10), (2, 20); insert into public.lines values (1)",
    [],
    "ledger",
  );
  await expect
    .poll(async () => {
      const body = (await (await request.get(`/api/changes?database=ledger&environment=test`)).json()) as {
        changes: unknown[];
      };
      return body.changes.length;
    })
    .toBe(3);
  await request.dispose();
});

test.afterAll(async ({ playwright, baseURL }) => {
  const request = await playwright.request.newContext({ baseURL });
  await signIn(request);
  await request.put("/api/retention", { data: { rules: [] } });
  await request.dispose();
  await removeDatabaseAndStop(playwright, baseURL, databaseId, source);
});

test("an admin keeps test 7 days and public.orders 90; a viewer reads it and cannot change it", async ({
  page,
  browser,
  baseURL,
}, testInfo) => {
  await signIn(page.request);
  await page.goto("/changes");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Retention" }).click();
  await expect(page).toHaveURL(/\/settings\/retention$/);
  await expect(page.getByRole("heading", { name: "Retention", exact: true })).toBeVisible();
  const test = page.getByRole("region", { name: "test", exact: true });
  await expect(test.getByLabel("Keep test changes for")).toHaveValue("forever");
  await expect(page.getByRole("button", { name: "Save retention" })).toBeDisabled();

  await test.getByLabel("Keep test changes for").selectOption("7");
  await test.getByLabel("Archive test changes before dropping").check();
  // The tables the trail holds in test are offered as the name is typed.
  const table = test.getByLabel("Table of test with its own rule");
  await table.fill("ord");
  await expect(test.locator("datalist option[value='public.orders']")).toHaveCount(1);
  await table.fill("public.orders");
  await test.getByRole("button", { name: "Add a table rule to test" }).click();
  const orders = test.getByLabel("Keep public.orders (test) changes for");
  await expect(orders).toHaveValue("7");
  await orders.selectOption("90");
  // A name that is not schema.table is refused before anything is sent.
  await table.fill("orders");
  await test.getByRole("button", { name: "Add a table rule to test" }).click();
  await expect(test.getByText('Name a table as "schema.table"')).toBeVisible();
  await table.fill("");

  // Nothing stored is a week old yet: the preview says nothing is dropped now.
  await expect(page.getByTestId("impact-now")).toHaveText(
    "Nothing stored is past these rules: nothing is dropped now.",
  );
  await expect(page.getByRole("heading", { name: "What saving this does to stored changes" })).toBeVisible();
  await page.getByRole("button", { name: "Save retention" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Retention saved." })).toBeVisible();
  await screens(page, "retention-admin");

  await page.reload();
  const reloaded = page.getByRole("region", { name: "test", exact: true });
  await expect(reloaded.getByLabel("Keep test changes for")).toHaveValue("7");
  await expect(reloaded.getByLabel("Archive test changes before dropping")).toBeChecked();
  await expect(reloaded.getByLabel("Keep public.orders (test) changes for")).toHaveValue("90");
  await expect(reloaded.getByLabel("Archive public.orders (test) changes before dropping")).toBeChecked();
  const saved = (await (await page.request.get("/api/retention")).json()) as { rules: unknown[] };
  expect(saved.rules).toEqual([
    { environment: "test", table: null, days: 7, archive: true },
    // A table added to an environment starts from the environment's choice, archiving included.
    { environment: "test", table: "public.orders", days: 90, archive: true },
  ]);
  for (const width of WIDTHS) {
    const ready = () => page.getByLabel("Keep test changes for");
    await checkPage(page, { name: "retention", path: "/settings/retention", ready, signedIn: true }, width, testInfo);
  }

  // A viewer, in a browser of their own, reads the rules but has nothing to change them with.
  expect((await page.request.post("/api/users", { data: { ...VIEWER, role: "viewer" } })).status()).toBe(201);
  const context = await browser.newContext({ baseURL });
  try {
    const viewer = await context.newPage();
    await viewer.goto("/login");
    await viewer.getByLabel("Email").fill(VIEWER.email);
    await viewer.getByLabel("Password").fill(VIEWER.password);
    await viewer.getByRole("button", { name: "Sign in" }).click();
    await expect(viewer).toHaveURL(/\/changes$/);
    await viewer.goto("/settings/retention");
    await expect(viewer).toHaveURL(/\/settings\/retention$/);
    const region = viewer.getByRole("region", { name: "test", exact: true });
    await expect(region.getByLabel("Keep test changes for")).toHaveValue("7");
    await expect(region.getByLabel("Keep test changes for")).toBeDisabled();
    await expect(region.getByLabel("Keep public.orders (test) changes for")).toBeDisabled();
    await expect(viewer.getByRole("button", { name: "Save retention" })).toHaveCount(0);
    await expect(viewer.getByRole("button", { name: /Remove the rule/ })).toHaveCount(0);
    await expect(viewer.getByText("Only admins can change retention.")).toBeVisible();
    await screens(viewer, "retention-viewer");
    expect((await context.request.put("/api/retention", { data: { rules: [] } })).status()).toBe(403);
  } finally {
    await context.close();
  }
});
