import { expect, test } from "@playwright/test";
import pg from "pg";
import { checkPage, WIDTHS } from "./support/layout";
import { e2eSetupCode } from "./support/sign-in";

function sourceClient() {
  return new pg.Client({
    host: "localhost",
    port: Number(process.env.E2E_SOURCE_PORT),
    database: "shop",
    user: "postgres",
    password: process.env.E2E_SOURCE_PASSWORD,
  });
}

// Before the journey: only a brand-new instance shows /setup (the other pages are checked in layout.spec.ts).
test("the first-run page fits a phone and a laptop", async ({ page }, testInfo) => {
  const ready = () => page.getByRole("heading", { name: "Create the first admin" });
  for (const width of WIDTHS) {
    await checkPage(page, { name: "setup", path: "/setup", ready, signedIn: false }, width, testInfo);
  }
});

test("a new user connects a database and watches its changes arrive", async ({ page }) => {
  const source = sourceClient();
  await source.connect();
  await source.query("create table public.items (sku text primary key, name text not null, price numeric(12,2))");
  await source.query("create table public.untracked (id int primary key)");

  // Every answer the browser receives, to look for the source's password in (none may carry it).
  const received: Promise<string>[] = [];
  page.on("response", (response) => {
    // The app's own code (bundles, fonts) is the same for everyone; what is looked at is what answers carry.
    if (!response.url().includes("/_next/static/")) received.push(response.text().catch(() => ""));
  });

  // A brand-new instance sends the visitor to /setup.
  await page.goto("/");
  await expect(page).toHaveURL(/\/setup$/);
  // Without the setup code `retrace start` printed, nobody becomes the admin.
  await page.getByLabel("Setup code").fill("AAAA-BBBB-CCCC");
  await page.getByLabel("Email").fill("admin@example.com");
  await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
  await page.getByLabel("Confirm password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create admin" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "not this instance's setup code" })).toBeVisible();
  await page.screenshot({ path: test.info().outputPath("setup-wrong-code.png"), fullPage: true });
  await expect(page).toHaveURL(/\/setup$/);
  await page.getByLabel("Setup code").fill(e2eSetupCode().toLowerCase());
  await page.getByLabel("Email").fill("admin@example.com");
  await page.getByLabel("Password", { exact: true }).fill("correct horse battery");
  await page.getByLabel("Confirm password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create admin" }).click();

  // Connect the source through the form.
  await expect(page).toHaveURL(/\/databases\/new$/);
  await expect(page.getByRole("heading", { name: "Connect PostgreSQL Database" })).toBeVisible();
  await page.getByLabel("Host").fill("localhost");
  await page.getByLabel("Port").fill(String(process.env.E2E_SOURCE_PORT));
  await page.getByLabel("Database Name").fill("shop");
  await page.getByLabel("Username").fill("postgres");
  await page.getByLabel("Password").fill("wrong password");
  // The form's, not the header's environment switcher.
  await page.getByRole("main").getByLabel("Environment").selectOption({ label: "Staging" });

  // A wrong password gets a specific error and creates nothing.
  await page.getByRole("button", { name: "Add Database" }).click();
  await expect(page.getByRole("alert").filter({ hasText: /authentication failed/i })).toBeVisible();
  const slots = await source.query("select count(*)::int as n from pg_replication_slots");
  expect(slots.rows[0].n).toBe(0);

  await page.getByLabel("Password").fill(String(process.env.E2E_SOURCE_PASSWORD));
  await page.getByRole("button", { name: "Add Database" }).click();

  // Pick the tracked table.
  await expect(page).toHaveURL(/\/databases\/[0-9a-f-]+\/tables$/);
  await page.getByLabel("public.items").check();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText(/Tracking 1 table/)).toBeVisible();

  // The password typed into the form never comes back: not in a page, nor in any answer the browser received.
  const databasePage = new URL(page.url()).pathname.replace(/\/tables$/, "");
  for (const path of ["/databases", databasePage]) {
    await page.goto(path);
    await expect(page.getByRole("heading").first()).toBeVisible();
    expect(await page.content()).not.toContain(String(process.env.E2E_SOURCE_PASSWORD));
  }
  const bodies = await Promise.all(received);
  expect(bodies.length).toBeGreaterThan(5);
  for (const body of bodies) {
    expect(body).not.toContain(String(process.env.E2E_SOURCE_PASSWORD));
    expect(body).not.toContain("wrong password");
  }

  // Changes made by a plain client, outside Retrace.
  await source.query("insert into public.items values ('SKU-1', 'Lamp', 19.99)");
  await source.query("update public.items set name = 'Desk lamp', price = 24.50 where sku = 'SKU-1'");
  await source.query("delete from public.items where sku = 'SKU-1'");
  await source.query("insert into public.untracked values (1)");
  await source.end();

  await page.goto("/changes");
  const rows = page.getByTestId("change-row");
  await expect(rows).toHaveCount(3, { timeout: 30_000 });
  // Newest first.
  await expect(rows.nth(0)).toContainText("Delete");
  await expect(rows.nth(1)).toContainText("Update");
  await expect(rows.nth(2)).toContainText("Create");
  await expect(rows.nth(0)).toContainText("items");

  // Filtering by operation narrows the list, and the filter lives in the URL.
  await page.getByRole("button", { name: "Filters" }).click();
  await page.getByRole("checkbox", { name: "Update" }).check();
  await expect(page).toHaveURL(/operation=UPDATE/);
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("Update");

  // The detail shows the before and after images.
  await rows.first().click();
  const diff = page.getByTestId("diff");
  await expect(diff).toContainText("Lamp");
  await expect(diff).toContainText("Desk lamp");
  await expect(diff).toContainText("19.99");
  await expect(diff).toContainText("24.50");

  // Older changes load below the newest. The live tail goes on meanwhile: with the reader scrolled down to them, a
  // new change is counted, not inserted above what they read, until they ask to see it.
  const more = sourceClient();
  await more.connect();
  await more.query("insert into public.items select 'BULK-' || i, 'Item ' || i, i from generate_series(1, 60) i");
  // Opened before the worker stored the bulk insert, the list would show 3 rows and the live tail would add the 60
  // on top: wait until the store has them, so the first page is 50 of 63.
  await expect
    .poll(
      async () => {
        const response = await page.request.get("/api/changes?primaryKey=BULK-60&limit=1");
        return ((await response.json()) as { changes: unknown[] }).changes.length;
      },
      { timeout: 30_000 },
    )
    .toBe(1);
  await page.goto("/changes");
  await expect(rows).toHaveCount(50, { timeout: 30_000 });
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(rows).toHaveCount(63);
  const reading = rows.nth(60);
  const before = await reading.boundingBox();
  await more.query("insert into public.items values ('SKU-NEW', 'Newest', 1)");
  await more.end();
  const arrived = page.getByRole("button", { name: "1 new change" });
  await expect(arrived).toBeVisible({ timeout: 30_000 });
  await expect(rows).toHaveCount(63);
  expect(await reading.boundingBox()).toEqual(before);
  await arrived.click();
  await expect(rows.first()).toContainText("SKU-NEW");
  await expect(rows).toHaveCount(64);
  await expect(page.getByRole("button", { name: "Load more" })).toHaveCount(0);
});
