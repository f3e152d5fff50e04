import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { startTestServer, type TestServer } from "../test/support/postgres";
import { checkPage, WIDTHS } from "./support/layout";
import { connectDatabase, removeDatabaseAndStop } from "./support/connect";
import { signIn } from "./support/sign-in";

/**
 * Reading a change: the diff (changed columns highlighted, unchanged ones folded, the nested key of a jsonb
 * value that changed, long values cut with "Show all"), the transaction's pages, the copy buttons, Esc back to
 * the filtered list, and a row's history from its change. Its own source server and database ("library"),
 * removed at the end, so the specs after this one see what the journey left. Screenshots of the change page
 * and the history page at both widths go to the test's output directory.
 */

let source: TestServer;
let databaseId = "";

/** Long enough to be cut: 200 words, some 1,400 characters. */
const LONG_SUMMARY = Array.from({ length: 200 }, (_, i) => `word${i}`).join(" ");
const AMOUNT = "12345678901234567890.123456789";

/** A jsonb document of 60 lines once printed, one nested key of which the update changes. */
function orderDocument(city: string) {
  const lines = Array.from({ length: 20 }, (_, i) => ({ sku: `L-${i}`, qty: i }));
  return JSON.stringify({ customer: { name: "Ann", address: { city, zip: "75001" } }, lines });
}

async function libraryChanges(request: APIRequestContext, query: string) {
  const response = await request.get(`/api/changes?database=library&${query}`);
  expect(response.ok()).toBe(true);
  return ((await response.json()) as { changes: { id: string; operation: string }[] }).changes;
}

/** The ids of the library's changes matching `query`, newest first, once the worker has captured `count`. */
async function captured(request: APIRequestContext, query: string, count: number): Promise<string[]> {
  let ids: string[] = [];
  await expect
    .poll(
      async () => {
        ids = (await libraryChanges(request, `${query}&limit=500`)).map((c) => c.id);
        return ids.length;
      },
      { timeout: 60_000 },
    )
    .toBe(count);
  return ids;
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ playwright }, testInfo) => {
  testInfo.setTimeout(240_000);
  source = await startTestServer();
  await source.createDatabase("library");
  const run = (sql: string, params?: unknown[]) => source.query(sql, params, "library");
  await run(`create table public.orders (
    id int primary key, title text, body jsonb, note text, summary text, amount numeric,
    c1 text, c2 text, c3 text, c4 text, c5 text)`);

  const request = await playwright.request.newContext({ baseURL: testInfo.project.use.baseURL });
  await signIn(request);
  databaseId = await connectDatabase(request, source, "library", ["public.orders"]);

  await run(`insert into public.orders values (1, 'First order', $1, '', 'short', $2, 'a', 'b', 'c', 'd', 'e')`, [
    orderDocument("Paris"),
    AMOUNT,
  ]);
  await run("update public.orders set title = 'First order, amended', body = $1 where id = 1", [orderDocument("Lyon")]);
  await run("update public.orders set note = 'null', summary = $1 where id = 1", [LONG_SUMMARY]);
  // One transaction of 150 rows: its change pages show 100, then "Load more".
  await run("insert into public.orders (id, title) select i, 'Bulk ' || i from generate_series(100, 249) i");
  // A row changed 25 times: its history shows 20, then "Load older".
  for (let i = 1; i <= 25; i += 1) await run("update public.orders set title = $1 where id = 100", [`Rev ${i}`]);
  await captured(request, "table=orders", 1 + 2 + 150 + 25);
  await request.dispose();
});

test.afterAll(async ({ playwright }, testInfo) => {
  await removeDatabaseAndStop(playwright, testInfo.project.use.baseURL, databaseId, source);
});

test.beforeEach(async ({ page }) => {
  await signIn(page.request);
});

/** The change of order 1 by `operation`: the first update is the older of the two. */
async function orderChange(page: Page, operation: "CREATE" | "UPDATE", which: "first" | "last" = "last") {
  const ids = (await libraryChanges(page.request, `table=orders&primaryKey=1&operation=${operation}`)).map((c) => c.id);
  const id = which === "last" ? ids[0] : ids[ids.length - 1];
  expect(id).toBeDefined();
  return id ?? "";
}

test("the diff highlights what changed, folds what did not, and marks the nested key", async ({ page }) => {
  await page.goto(`/changes/${await orderChange(page, "UPDATE", "first")}`);
  const diff = page.getByTestId("diff");
  const row = (column: string) => diff.locator(`tr[data-column="${column}"]`);

  await expect(row("title")).toHaveAttribute("data-changed", "true");
  await expect(row("title")).toContainText("First order, amended");
  await expect(row("body")).toHaveAttribute("data-changed", "true");
  // Unchanged columns are folded, in the table's order, and open all at once.
  await expect(row("c1")).toHaveCount(0);
  // A lone unchanged column is shown: its fold would take as much room.
  await expect(row("id")).toBeVisible();
  await expect(diff.getByTestId("unchanged-columns")).toHaveText(
    "⋯ 8 unchanged columns: note, summary, amount, c1 and 4 more",
  );
  await expect(page.getByText("2 of 11 columns changed")).toBeVisible();
  await page.getByRole("button", { name: "Expand all" }).click();
  await expect(row("c1")).toBeVisible();
  await expect(row("c1")).not.toHaveAttribute("data-changed");
  const order = await diff.locator("tr[data-column]").evaluateAll((rows) => rows.map((r) => r.dataset.column));
  expect(order).toEqual(["id", "title", "body", "note", "summary", "amount", "c1", "c2", "c3", "c4", "c5"]);
  await page.getByRole("button", { name: "Collapse unchanged" }).click();
  await expect(row("c1")).toHaveCount(0);
  // A folded run opens on its own too.
  await diff.getByRole("button", { name: /unchanged columns: note, summary, amount, c1/ }).click();
  await expect(row("c1")).toBeVisible();

  // Inside the jsonb value, the nested key that changed is highlighted on both sides, not the whole document.
  const city = row("body").locator('[data-path="customer.address.city"]');
  await expect(city).toHaveCount(2);
  await expect(city.first()).toHaveAttribute("data-mark", "changed");
  await expect(city.first()).toContainText('"Paris"');
  await expect(city.last()).toContainText('"Lyon"');
  await expect(row("body").locator('[data-path="customer.address.zip"]').first()).not.toHaveAttribute("data-mark");
  await expect(row("body").locator("[data-mark]")).toHaveCount(2);
  // The 91-line document is folded around its change (jsonb puts "lines" first) until "Show all".
  await expect(row("body").locator('[data-path="lines.19.qty"]')).toHaveCount(0);
  await row("body")
    .getByRole("button", { name: /Show all \(\d+ lines\)/ })
    .first()
    .click();
  await expect(row("body").locator('[data-path="lines.19.qty"]')).toHaveCount(1);

  // Numbers digit for digit, the empty string named.
  await expect(row("amount")).toContainText(AMOUNT);
  await expect(row("note")).toContainText("empty string");
});

test("text reads as text, the word null is not NULL, and long text is cut until Show all", async ({ page }) => {
  await page.goto(`/changes/${await orderChange(page, "UPDATE")}`);
  const diff = page.getByTestId("diff");
  const note = diff.locator('tr[data-column="note"]');
  await expect(note).toHaveAttribute("data-changed", "true");
  await expect(note.locator("td").last()).toContainText("nulltext, not NULL");
  await expect(note.locator("td").first()).toContainText("empty string");

  const summary = diff.locator('tr[data-column="summary"]');
  await expect(summary).not.toContainText("word199");
  const characters = LONG_SUMMARY.length.toLocaleString("en");
  await summary.getByRole("button", { name: `Show all (${characters} characters)` }).click();
  await expect(summary).toContainText("word198 word199");
  // Text, without JSON quotes.
  await expect(summary.locator("td").first()).toHaveText(/^(Before)?short$/);
});

test("the transaction panel pages a large transaction", async ({ page }) => {
  const [bulk] = await libraryChanges(page.request, "table=orders&primaryKey=120");
  await page.goto(`/changes/${bulk?.id ?? ""}`);
  const entries = page.getByTestId("transaction").getByRole("listitem");
  await expect(entries).toHaveCount(100);
  await expect(page.getByTestId("transaction-summary")).toHaveText(
    "The first 100 changes of this transaction, in commit order.",
  );
  await expect(entries.filter({ hasText: "this change" })).toContainText("120");
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(entries).toHaveCount(150);
  await expect(entries.last()).toContainText("249");
  await expect(page.getByTestId("transaction-summary")).toHaveText(
    "All 150 changes of this transaction, in commit order.",
  );
  await expect(page.getByRole("button", { name: "Load more" })).toHaveCount(0);
});

test("copy buttons copy the change exactly, its key and its permalink", async ({ page, context, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const id = await orderChange(page, "CREATE");
  await page.goto(`/changes/${id}`);
  const clipboard = () => page.evaluate(() => navigator.clipboard.readText());

  await page.getByRole("button", { name: "Copy as JSON" }).click();
  await expect(page.getByRole("button", { name: "Copy as JSON" })).toHaveText("Copied");
  const copied = await clipboard();
  // Every digit of the numeric, which JSON.parse would round.
  expect(copied).toContain(`"amount": ${AMOUNT}`);
  const api = (await (await page.request.get(`/api/changes/${id}`)).json()) as { change: Record<string, unknown> };
  const parsed = JSON.parse(copied) as Record<string, unknown>;
  expect(parsed).toEqual(api.change);

  await page.getByRole("button", { name: "Copy primary key" }).click();
  await expect.poll(clipboard).toBe("1");
  await page.getByRole("button", { name: "Copy link" }).click();
  await expect.poll(clipboard).toBe(`${baseURL}/changes/${id}`);
});

test("Esc goes back to the list with its filters; every control is reached by Tab, with a focus ring", async ({
  page,
}) => {
  await page.goto("/changes?database=library&operation=UPDATE");
  await page.getByTestId("change-row").first().click();
  await expect(page).toHaveURL(/\/changes\/\d+$/);
  await expect(page.getByTestId("diff")).toBeVisible();

  // Tab reaches "Expand all", which shows where the focus is.
  let focused = "";
  for (let i = 0; i < 40 && focused !== "Expand all"; i += 1) {
    await page.keyboard.press("Tab");
    focused = await page.evaluate(() => document.activeElement?.textContent?.trim() ?? "");
  }
  expect(focused).toBe("Expand all");
  const outline = await page.evaluate(() => {
    const style = getComputedStyle(document.activeElement ?? document.body);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  expect(outline.style).not.toBe("none");
  expect(outline.width).toBeGreaterThan(0);

  await page.keyboard.press("Escape");
  await expect(page).toHaveURL(/\/changes\?database=library&operation=UPDATE$/);
  await expect(page.getByTestId("change-row").first()).toContainText("Update");
});

test("a row's history is a timeline from its change, newest first, paged with Load older", async ({ page }) => {
  await page.goto(`/changes/${await orderChange(page, "CREATE")}`);
  await page.getByRole("link", { name: "History of this row" }).click();
  await expect(page).toHaveURL(/\/records\?database=library&table=public.orders&primaryKey=1&sourceId=/);
  const steps = page.getByTestId("history-step");
  await expect(steps).toHaveCount(3);
  await expect(steps.nth(0)).toHaveAttribute("data-operation", "UPDATE");
  await expect(steps.nth(2)).toHaveAttribute("data-operation", "CREATE");
  // Each step is the diff from the one before.
  await expect(steps.nth(0).locator('tr[data-changed="true"]')).toHaveCount(2);
  await expect(steps.nth(1).locator('[data-path="customer.address.city"][data-mark="changed"]')).toHaveCount(2);
  await expect(page.getByText("That is the oldest change captured of this row.")).toBeVisible();

  // By URL, and paged: 26 changes of row 100, 20 a page.
  const url = new URL(page.url());
  url.searchParams.set("primaryKey", "100");
  await page.goto(url.pathname + url.search);
  await expect(steps).toHaveCount(20);
  await expect(steps.first()).toContainText("Rev 25");
  await page.getByRole("button", { name: "Load older" }).click();
  await expect(steps).toHaveCount(26);
  await expect(steps.last()).toHaveAttribute("data-operation", "CREATE");
  await expect(page.getByRole("button", { name: "Load older" })).toHaveCount(0);
});

test("the change page and the history page fit a phone and a laptop", async ({ page }, testInfo) => {
  const id = await orderChange(page, "UPDATE", "first");
  const key = new URLSearchParams({ database: "library", table: "public.orders", primaryKey: "1" });
  for (const width of WIDTHS) {
    await checkPage(
      page,
      { name: "reading-change", path: `/changes/${id}`, ready: (p) => p.getByTestId("diff"), signedIn: true },
      width,
      testInfo,
    );
    await checkPage(
      page,
      {
        name: "reading-history",
        path: `/records?${key}`,
        ready: (p) => p.getByTestId("history-step").first(),
        signedIn: true,
      },
      width,
      testInfo,
    );
  }
});
