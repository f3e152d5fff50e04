import fs from "node:fs";
import path from "node:path";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { startTestServer, type TestServer } from "../test/support/postgres";
import { connectDatabase, removeDatabaseAndStop } from "./support/connect";
import { signIn } from "./support/sign-in";
import { connectStore } from "./support/store";

/**
 * Time travel as a user meets it: a row's history with the as-of picker (before and after an update), a baseline
 * taken from the database's page with its progress bar, and the table as of a moment, paged. Its own source server
 * and database ("atlas"), removed at the end. Screenshots of each page at 1280 and 390 px go to SCREENS.
 */

const SCREENS = process.env.SCREENS_DIR ?? "test-results/time-travel";
const ROWS = 20_000;

let source: TestServer;
let databaseId = "";
let beforeUpdate = "";
let afterUpdate = "";

async function atlasChanges(request: APIRequestContext) {
  const response = await request.get("/api/changes?database=atlas&limit=500");
  expect(response.ok()).toBe(true);
  return ((await response.json()) as { changes: { id: string }[] }).changes;
}

async function shoot(page: Page, name: string) {
  fs.mkdirSync(SCREENS, { recursive: true });
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(SCREENS, `${name}-${width}.png`), fullPage: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} at ${width} px scrolls sideways`).toBeLessThanOrEqual(0);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ playwright }, testInfo) => {
  testInfo.setTimeout(240_000);
  source = await startTestServer();
  await source.createDatabase("atlas");
  const run = (sql: string, params?: unknown[]) => source.query(sql, params, "atlas");
  // Rows that exist before tracking begins: the trail knows nothing of them until a baseline.
  await run(`create table public.cities (id int primary key, name text, population int8, area numeric)`);
  await run(`insert into public.cities select g, 'City ' || g, 9007199254740993 + g, g * 1.50
               from generate_series(1, ${ROWS}) g`);
  const request = await playwright.request.newContext({ baseURL: testInfo.project.use.baseURL });
  await signIn(request);
  databaseId = await connectDatabase(request, source, "atlas", ["public.cities"]);
  const clock = async () =>
    (await run("select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') as t"))
      .rows[0] as { t: string };
  // Wait until capture is live (the first change is in the trail) before the moments that matter.
  await run("update public.cities set name = 'Warm-up' where id = 3");
  await expect.poll(async () => (await atlasChanges(request)).length, { timeout: 90_000 }).toBe(1);
  beforeUpdate = (await clock()).t;
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await run("update public.cities set name = 'Renamed', population = 9223372036854775807 where id = 1");
  await new Promise((resolve) => setTimeout(resolve, 1100));
  afterUpdate = (await clock()).t;
  await expect.poll(async () => (await atlasChanges(request)).length, { timeout: 60_000 }).toBe(2);
  await request.dispose();
});

test.afterAll(async ({ playwright }, testInfo) => {
  await removeDatabaseAndStop(playwright, testInfo.project.use.baseURL, databaseId, source);
});

test.beforeEach(async ({ page }) => {
  await signIn(page.request);
});

const history = (key: number, at?: string) =>
  `/records?database=atlas&table=public.cities&primaryKey=${key}${at ? `&at=${encodeURIComponent(at)}` : ""}`;

test("a row's history shows the row as of a picked moment", async ({ page }) => {
  await page.goto(history(1));
  const picker = page.getByLabel(/As of/);
  // The picker takes local time; the browser converts the moment before the update into it.
  const local = await page.evaluate((iso) => {
    const d = new Date(new Date(iso).getTime() + 1000);
    const pad = (n: number) => String(n).padStart(2, "0");
    const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    return `${date}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }, beforeUpdate);
  await picker.fill(local);
  await page.getByRole("button", { name: "Show", exact: true }).click();
  await expect(page).toHaveURL(/[?&]at=/);
  // Before its first change and with no baseline, the trail does not know the row.
  await expect(page.getByTestId("as-of-none")).toContainText("before tracking began");

  await page.goto(history(1, afterUpdate));
  const shown = page.getByTestId("record-as-of");
  await expect(shown.getByTestId("row-values")).toContainText("Renamed");
  await expect(shown.getByTestId("row-values")).toContainText("9223372036854775807");
  await expect(shown.getByTestId("as-of-source")).toContainText(/update/i);
  await shoot(page, "record-as-of");

  // The table then, before any baseline: only its changed rows, and the page says why the others are missing.
  await page.goto(`/tables?database=atlas&table=cities&at=${encodeURIComponent(afterUpdate)}`);
  await expect(page.getByTestId("table-rows").locator("tbody tr")).toHaveCount(2);
  await expect(page.getByTestId("rows-unknown")).toContainText("a baseline of the table");
  await shoot(page, "table-as-of-unbaselined");
});

test("a baseline shows its progress, and then every row is known", async ({ page }) => {
  await page.goto(`/databases/${databaseId}`);
  const row = page.getByTestId("baseline-public.cities");
  await expect(row).toContainText("No baseline yet");
  await row.getByRole("button", { name: "Take a baseline" }).click();
  await expect(row.getByText(/Waiting for the worker|rows copied/)).toBeVisible();
  await shoot(page, "database-baseline-running");
  await expect(row).toContainText(`Baseline of ${ROWS.toLocaleString("en-US")} rows taken`, { timeout: 90_000 });
  await shoot(page, "database-baseline-done");

  // Row 2 never changed: as of now it is the baseline's copy, exact.
  await page.goto(history(2, new Date().toISOString()));
  await expect(page.getByTestId("row-values")).toContainText("City 2");
  await expect(page.getByTestId("row-values")).toContainText("9007199254740995");
  await expect(page.getByTestId("as-of-source")).toContainText("baseline");
});

test("the table as of a moment, page by page", async ({ page }) => {
  await page.goto(`/databases/${databaseId}`);
  await page.getByTestId("baseline-public.cities").getByRole("button", { name: "Table as of now" }).click();
  await expect(page).toHaveURL(/\/tables\?/);
  const rows = page.getByTestId("table-rows");
  await expect(rows.locator("tbody tr")).toHaveCount(50);
  await expect(page.getByTestId("table-summary")).toContainText("The first 50 rows by key");
  await expect(page.getByTestId("rows-unknown")).toHaveCount(0);
  await expect(rows).toContainText("Renamed");
  await page.getByRole("button", { name: "Load more" }).click();
  await expect(rows.locator("tbody tr")).toHaveCount(100);
  await shoot(page, "table-as-of");

  // A moment before the baseline was taken: the changed rows as they were then, the untouched ones from the baseline.
  await page.goto(`/tables?database=atlas&table=cities&at=${encodeURIComponent(afterUpdate)}`);
  await expect(page.getByTestId("table-rows")).toBeVisible();
  await expect(page.getByTestId("table-rows")).toContainText("Renamed");
  await expect(page.getByTestId("table-rows")).toContainText("City 10");

  await page.goto("/tables?database=atlas&table=nope&at=2026-01-01T00:00:00Z");
  await expect(page.getByText("Could not read this table")).toBeVisible();
  await expect(page.getByText(/not found/)).toBeVisible();
  await shoot(page, "table-error");
});

test("a big table's page says when it reads every change, while the sealer is held up", async ({ page }) => {
  test.setTimeout(180_000);
  const store = await connectStore();
  // The sealer's lock for this database (lib/seals/seal.ts), held by the test: nothing of it is sealed meanwhile.
  const lock = "hashtextextended('retrace-seal:' || $1, 0)";
  await store.query(`select pg_advisory_lock(${lock})`, [databaseId]);
  try {
    const stored = async () =>
      (await store.query<{ n: number }>("select count(*)::int as n from changes where source_id = $1", [databaseId]))
        .rows[0]?.n ?? 0;
    const before = await stored();
    // 21,500 changes: more than a walk allows past the seal chain's head (lib/changes/as-of-walk.ts).
    await source.query("update public.cities set population = population - 1", [], "atlas");
    await source.query("update public.cities set area = area + 1 where id <= 1500", [], "atlas");
    await expect.poll(stored, { timeout: 90_000 }).toBe(before + ROWS + 1_500);

    await page.goto(`/tables?database=atlas&table=cities&at=${encodeURIComponent(new Date().toISOString())}`);
    const note = page.getByTestId("slow-read");
    await expect(note).toContainText(/reads its [\d,]+ changes up to this moment/);
    await expect(note).toContainText(/about [\d,]+ of the table's changes are not sealed yet/);
    await expect(page.getByTestId("table-rows").locator("tbody tr")).toHaveCount(50);
    await shoot(page, "table-as-of-slow-read");
  } finally {
    await store.query(`select pg_advisory_unlock(${lock})`, [databaseId]);
    await store.end();
  }
  // Sealed, the page walks the seals and has nothing to say.
  await expect
    .poll(
      async () => {
        await page.reload();
        await expect(page.getByTestId("table-rows")).toBeVisible();
        return page.getByTestId("slow-read").count();
      },
      { timeout: 60_000 },
    )
    .toBe(0);
});
