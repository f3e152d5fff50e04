import { expect, test, type Page } from "@playwright/test";
import { readFile } from "node:fs/promises";
import pg from "pg";
import { checkPage, WIDTHS } from "./support/layout";
import { connectDatabase } from "./support/connect";
import { signIn } from "./support/sign-in";

/**
 * Finding changes on /changes: each filter, URL sharing and Back, the environment switcher, the live tail with
 * pause, export, keyboard navigation, grouping by transaction and the activity chart. A second database of the
 * e2e source server ("depot", production, beside the journey's "shop", staging) holds three transactions: two
 * with application context, one table with a composite key. It is removed at the end, so the specs after this one
 * see what the journey left. Screenshots go to SCREENS_DIR (default: the test's output directory).
 */

const SCREENS_DIR = process.env.SCREENS_DIR;

function depot() {
  return new pg.Client({
    host: "localhost",
    port: Number(process.env.E2E_SOURCE_PORT),
    database: "depot",
    user: "postgres",
    password: process.env.E2E_SOURCE_PASSWORD,
  });
}

let databaseId = "";

// Each test goes on from what the one before it left (the live tail adds changes the later ones count).
test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ browser }) => {
  const admin = new pg.Client({
    host: "localhost",
    port: Number(process.env.E2E_SOURCE_PORT),
    database: "postgres",
    user: "postgres",
    password: process.env.E2E_SOURCE_PASSWORD,
  });
  await admin.connect();
  await admin.query("drop database if exists depot with (force)");
  await admin.query("create database depot");
  await admin.end();
  const source = depot();
  await source.connect();
  await source.query("create table public.orders (id int primary key, status text not null, total numeric(12,2))");
  await source.query("create table public.bins (aisle int, slot int, label text, primary key (aisle, slot))");

  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  await signIn(context.request);
  databaseId = await connectDatabase(
    context.request,
    { port: Number(process.env.E2E_SOURCE_PORT), password: process.env.E2E_SOURCE_PASSWORD },
    "depot",
    ["public.orders", "public.bins"],
    "production",
  );

  await source.query("begin");
  await source.query(`select pg_logical_emit_message(true, '_retrace', '{"user_id":42,"endpoint":"POST /orders"}')`);
  await source.query("insert into public.orders values (1, 'new', 10.00), (2, 'new', 20.00)");
  await source.query("insert into public.bins values (31, 1, 'top shelf')");
  await source.query("commit");
  await source.query("begin");
  await source.query(`select pg_logical_emit_message(true, '_retrace', '{"user_id":"42"}')`);
  await source.query("update public.orders set status = 'paid' where id = 1");
  await source.query("commit");
  await source.query("begin");
  await source.query("update public.bins set label = 'bottom shelf' where aisle = 31 and slot = 1");
  await source.query("delete from public.orders where id = 2");
  await source.query("commit");
  await source.end();

  await expect
    .poll(
      async () => {
        const response = await context.request.get("/api/changes?database=depot");
        return ((await response.json()) as { changes: unknown[] }).changes.length;
      },
      { timeout: 60_000 },
    )
    .toBe(6);
  await context.close();
});

test.afterAll(async ({ browser }) => {
  if (!databaseId) return;
  const context = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  await signIn(context.request);
  expect((await context.request.delete(`/api/databases/${databaseId}`)).status()).toBe(200);
  await context.close();
});

test.beforeEach(async ({ page }) => {
  await signIn(page.request);
});

const rows = (page: Page) => page.getByTestId("change-row");
const chips = (page: Page) => page.getByTestId("filter-chip");

async function openFilters(page: Page) {
  const button = page.getByRole("button", { name: /^Filters/ });
  if (await button.isVisible()) await button.click();
}

test("each filter narrows the list, shows as a chip and lives in the URL; Back undoes the last", async ({ page }) => {
  await page.goto("/changes?database=depot");
  await expect(rows(page)).toHaveCount(6);
  await expect(chips(page)).toHaveText([/Database:\s*depot/]);
  await openFilters(page);

  // Operations, several at once.
  await page.getByRole("checkbox", { name: "Create" }).check();
  await expect(page).toHaveURL(/operation=CREATE(&|$)/);
  await expect(rows(page)).toHaveCount(3);
  await page.getByRole("checkbox", { name: "Delete" }).check();
  await expect(page).toHaveURL(/operation=CREATE%2CDELETE/);
  await expect(rows(page)).toHaveCount(4);
  await expect(chips(page).filter({ hasText: "Operation" })).toContainText("Create, Delete");
  await page.goBack();
  await expect(page).toHaveURL(/operation=CREATE(&|$)/);
  await expect(rows(page)).toHaveCount(3);
  await expect(page.getByRole("checkbox", { name: "Delete" })).not.toBeChecked();
  await page.getByRole("button", { name: "Remove filter Operation: Create" }).click();
  await expect(rows(page)).toHaveCount(6);

  // Table, by type-ahead over the tables the trail holds in the database filtered on: the journey's public.items
  // (in "shop") is not offered.
  const suggestions = page.getByRole("listbox", { name: "Tables" }).getByRole("option");
  await page.getByLabel("Table", { exact: true }).fill("S");
  await expect(suggestions).toHaveText(["public.bins", "public.orders"]);
  await page.getByLabel("Table", { exact: true }).fill("BIN");
  await page.getByRole("option", { name: "public.bins" }).click();
  await expect(page).toHaveURL(/table=public.bins/);
  await expect(rows(page)).toHaveCount(2);

  // A composite primary key typed as 31,1, shown as (31, 1).
  await page.getByLabel("Primary key", { exact: true }).fill("31,1");
  await page.getByLabel("Primary key", { exact: true }).press("Enter");
  await expect(page).toHaveURL(/primaryKey=31%2C1/);
  await expect(rows(page)).toHaveCount(2);
  await expect(rows(page).first()).toContainText("(31, 1)");
  await page.goBack();
  await expect(page).not.toHaveURL(/primaryKey/);
  await expect(page.getByLabel("Primary key", { exact: true })).toHaveValue("");
  await page.getByRole("button", { name: "Remove filter Table: public.bins" }).click();
  await expect(rows(page)).toHaveCount(6);

  // Changed field: the update that changed status.
  await page.getByLabel("Changed field", { exact: true }).fill("status");
  await page.getByLabel("Changed field", { exact: true }).press("Enter");
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toContainText("Update");
  await page.getByRole("button", { name: /Remove filter Changed field/ }).click();

  // Context: a number typed stays a number; quotes make text.
  await page.getByLabel("Context", { exact: true }).fill("user_id = 42");
  await page.getByLabel("Context", { exact: true }).press("Enter");
  await expect(page).toHaveURL(/context=%7B%22user_id%22%3A42%7D/);
  await expect(rows(page)).toHaveCount(3);
  await expect(rows(page).first()).toContainText("POST /orders");
  await page.getByRole("button", { name: "Remove filter Context: user_id = 42" }).click();
  await page.getByLabel("Context", { exact: true }).fill('user_id = "42"');
  await page.getByRole("button", { name: "Add" }).click();
  await expect(chips(page).filter({ hasText: "Context" })).toContainText('user_id = "42"');
  await expect(rows(page)).toHaveCount(1);
  await page.getByRole("button", { name: /Remove filter Context/ }).click();
  await expect(rows(page)).toHaveCount(6);

  // Time: a preset stays relative in the URL; a custom range after these changes matches nothing.
  await page.getByLabel("Time", { exact: true }).selectOption({ label: "Last 15 minutes" });
  await expect(page).toHaveURL(/from=now-15m/);
  await expect(chips(page).filter({ hasText: "Time" })).toContainText("Last 15 minutes");
  await expect(rows(page)).toHaveCount(6);
  await page.getByLabel("Time", { exact: true }).selectOption({ label: "Custom range…" });
  const later = new Date(Date.now() + 3_600_000 - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  await page.getByLabel("From", { exact: true }).fill(later);
  await page.getByLabel("From", { exact: true }).press("Enter");
  await expect(page).toHaveURL(/from=\d{4}-/);
  await expect(page.getByText("No changes match these filters")).toBeVisible();
  await page.getByRole("button", { name: "Clear filters" }).click();
  await expect(chips(page)).toHaveCount(0);
  await expect(page).not.toHaveURL(/database=|from=/);
});

test("a shared link shows its filters and the list they give", async ({ page }) => {
  const context = encodeURIComponent('{"user_id":42}');
  await page.goto(`/changes?database=depot&operation=CREATE&context=${context}&table=orders`);
  await expect(chips(page)).toHaveText([
    /Operation:\s*Create/,
    /Table:\s*orders/,
    /Database:\s*depot/,
    /Context:\s*user_id = 42/,
  ]);
  await expect(rows(page)).toHaveCount(2);
  for (const row of await rows(page).all()) await expect(row).toContainText("public.orders");
  await page.getByRole("button", { name: "Clear all" }).click();
  await expect(chips(page)).toHaveCount(0);
});

test("a composite key reads (31, 1) on the change, its transaction and its history, and copies so", async ({
  page,
  context,
}) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());
  await page.goto("/changes?database=depot&table=public.bins&operation=UPDATE");
  await rows(page).first().click();
  await expect(page).toHaveURL(/\/changes\/\d+/);
  const stored = '["31","1"]';
  await expect(page.getByRole("heading", { level: 1 })).toContainText("(31, 1)");
  await expect(page.getByRole("main")).not.toContainText(stored);
  await page.getByRole("button", { name: "Copy primary key" }).click();
  await expect.poll(clipboard).toBe("(31, 1)");
  await page.getByRole("link", { name: "History of this row" }).click();
  await expect(page.getByRole("heading", { level: 1 })).toContainText("(31, 1)");
  await expect(page.getByRole("main")).not.toContainText(stored);
});

test("the environment switcher scopes the changes and the databases, and stays while moving", async ({ page }) => {
  await page.goto("/changes");
  const switcher = page.getByRole("combobox", { name: "Environment" });
  await expect(switcher.locator("option")).toHaveText(["All", "Production", "Staging"]);
  await switcher.selectOption({ label: "Production" });
  await expect(page).toHaveURL(/environment=production/);
  await expect(rows(page)).toHaveCount(6);
  for (const row of await rows(page).all()) await expect(row).toContainText("depot · production");

  await page.getByRole("link", { name: "Databases", exact: true }).click();
  await expect(page).toHaveURL(/\/databases\?environment=production/);
  await expect(switcher).toHaveValue("production");
  await expect(page.getByRole("link", { name: "depot", exact: true })).toBeVisible();
  await expect(page.getByRole("link", { name: "shop", exact: true })).toHaveCount(0);
  if (SCREENS_DIR) {
    for (const width of WIDTHS) {
      await page.setViewportSize({ width: width.width, height: width.height });
      await page.screenshot({ path: `${SCREENS_DIR}/databases-production-${width.width}.png`, fullPage: true });
    }
  }

  await page.getByRole("link", { name: "Changes", exact: true }).click();
  await expect(page).toHaveURL(/\/changes\?environment=production/);
  await switcher.selectOption({ label: "All" });
  await expect(page).not.toHaveURL(/environment=/);
  await expect(rows(page).filter({ hasText: "shop · staging" }).first()).toBeVisible();
});

test("the live tail adds new changes on top, and waits while paused", async ({ page }) => {
  await page.goto("/changes?database=depot");
  await expect(rows(page)).toHaveCount(6);
  await expect(page.getByText("Live", { exact: true })).toBeVisible({ timeout: 30_000 });
  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Live updates paused" })).toBeVisible();

  const source = depot();
  await source.connect();
  await source.query("insert into public.orders values (3, 'new', 30.00)");
  await expect
    .poll(async () => {
      const body = (await (await page.request.get("/api/changes?database=depot")).json()) as { changes: unknown[] };
      return body.changes.length;
    })
    .toBe(7);
  // Captured, and not shown while paused (several polls' worth).
  await page.waitForTimeout(4_000);
  await expect(rows(page)).toHaveCount(6);

  await page.getByRole("button", { name: "Resume" }).click();
  await expect(rows(page)).toHaveCount(7, { timeout: 15_000 });
  await expect(rows(page).first()).toContainText("Create");
  await expect(rows(page).first().getByTitle("3", { exact: true })).toBeVisible();

  // Another arrives while the reader is at the top: it goes on top by itself.
  await source.query("update public.orders set status = 'shipped' where id = 3");
  await source.end();
  await expect(rows(page)).toHaveCount(8, { timeout: 30_000 });
  await expect(rows(page).first()).toContainText("Update");
  await expect(rows(page).first()).toContainText("status");
});

test("the filtered view downloads as NDJSON and CSV", async ({ page }) => {
  await page.goto("/changes?database=depot&operation=UPDATE");
  await expect(rows(page)).toHaveCount(3);
  const [ndjson] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "NDJSON" }).click(),
  ]);
  const lines = (await readFile(await ndjson.path(), "utf8")).trim().split("\n");
  expect(lines).toHaveLength(3);
  for (const line of lines) {
    expect(JSON.parse(line)).toMatchObject({ database: "depot", operation: "UPDATE" });
  }
  const [csv] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "CSV" }).click()]);
  expect(csv.suggestedFilename()).toMatch(/\.csv$/);
  const records = (await readFile(await csv.path(), "utf8")).trim().split("\n");
  expect(records).toHaveLength(4);
});

test("j and k move the selection, Enter opens it, / focuses the filters", async ({ page }) => {
  await page.goto("/changes?database=depot");
  await expect(rows(page)).toHaveCount(8);
  // The rows arrive in the server's HTML; the keys work once the page has hydrated. A j pressed before that
  // does nothing, so press until the first row is selected (once it is, the next j would select the second).
  await expect(async () => {
    await page.keyboard.press("j");
    await expect(rows(page).nth(0)).toHaveAttribute("aria-current", "true", { timeout: 3_000 });
  }).toPass({ timeout: 30_000 });
  await page.keyboard.press("j");
  await page.keyboard.press("j");
  await expect(rows(page).nth(2)).toHaveAttribute("aria-current", "true");
  await page.keyboard.press("k");
  await expect(rows(page).nth(1)).toHaveAttribute("aria-current", "true");
  await expect(rows(page).nth(2)).toHaveAttribute("aria-current", "false");
  const id = await rows(page).nth(1).getAttribute("data-change-id");
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/changes/${id}$`));

  await page.goBack();
  await expect(rows(page)).toHaveCount(8);
  await page.keyboard.press("/");
  await expect(page.getByLabel("Table", { exact: true })).toBeFocused();
  // Typing in a field is typing: j goes into it.
  await page.keyboard.type("j");
  await expect(page.getByLabel("Table", { exact: true })).toHaveValue("j");
});

test("rows group by transaction, with the transaction's context", async ({ page }) => {
  await page.goto("/changes?database=depot");
  await page.getByRole("checkbox", { name: "Group by transaction" }).check();
  await expect(page).toHaveURL(/group=transaction/);
  const headers = page.getByTestId("transaction-header");
  // Newest first: the shipped update, the new order, the shelf and delete, the paid update, the first three.
  await expect(headers).toHaveCount(5);
  await expect(headers.nth(2)).toContainText("2 changes");
  await expect(headers.nth(4)).toContainText("3 changes");
  await expect(headers.nth(4)).toContainText("POST /orders");
  await expect(page.getByTestId("transaction").nth(4).getByTestId("change-row")).toHaveCount(3);
});

test("dragging across the activity chart narrows the time filter", async ({ page }) => {
  await page.goto("/changes?database=depot&from=now-1h");
  const chart = page.getByTestId("activity-chart");
  await expect(chart).toContainText("8 changes");
  const surface = chart.locator(".recharts-surface");
  await expect(surface).toBeVisible();
  const box = await surface.boundingBox();
  if (!box) throw new Error("no chart surface");
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2, { steps: 5 });
  await page.mouse.move(box.x + box.width - 12, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await expect(page).toHaveURL(/from=\d{4}-.*&to=\d{4}-|to=\d{4}-.*from=\d{4}-/);
  await expect(chips(page).filter({ hasText: "Time" })).toContainText("–");
  await expect(rows(page)).toHaveCount(8);
});

test("the change list with its filters, chart and live tail fits a phone and a laptop", async ({ page }, testInfo) => {
  const source = depot();
  await source.connect();
  for (const width of WIDTHS) {
    await checkPage(
      page,
      { name: "changes-browse", path: "/changes?database=depot", ready: () => rows(page).first(), signedIn: true },
      width,
      testInfo,
    );
    await openFilters(page);
    await page.getByLabel("Context", { exact: true }).fill("user_id = 42");
    await page.getByLabel("Context", { exact: true }).press("Enter");
    await expect(rows(page)).toHaveCount(3);
    await page.getByLabel("Table", { exact: true }).click();
    await expect(page.getByRole("listbox", { name: "Tables" }).getByRole("option").first()).toBeVisible();
    await expectNoSidewaysScroll(page);
    await shot(page, `changes-filters-${width.width}`, testInfo);
    await page.getByLabel("Table", { exact: true }).press("Escape");

    // Scrolled down the list, a new change is counted, not inserted.
    await page.goto("/changes");
    await page.getByRole("button", { name: "Load more" }).scrollIntoViewIfNeeded();
    await source.query(`insert into public.orders values (${100 + width.width}, 'new', 1.00)`);
    await expect(page.getByRole("button", { name: /new change/ })).toBeVisible({ timeout: 30_000 });
    await expectNoSidewaysScroll(page);
    await shot(page, `changes-live-tail-${width.width}`, testInfo, false);
  }
  await source.end();
});

async function expectNoSidewaysScroll(page: Page) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  expect.soft(scrollWidth).toBeLessThanOrEqual(clientWidth);
}

async function shot(page: Page, name: string, testInfo: { outputPath: (name: string) => string }, fullPage = true) {
  await page.screenshot({
    path: SCREENS_DIR ? `${SCREENS_DIR}/${name}.png` : testInfo.outputPath(`${name}.png`),
    fullPage,
  });
}
