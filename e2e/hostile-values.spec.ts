import fs from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import pg from "pg";
import { startTestServer, type TestServer } from "../test/support/postgres";
import { removeDatabaseAndStop } from "./support/connect";
import { signIn } from "./support/sign-in";

/**
 * Hostile values are shown as text on every page that shows them. A source database ("hostile") whose table has a
 * column named with HTML, rows whose values carry script, an application context carrying script, a display name
 * and an API token name carrying script; then every page that shows any of it: the changes list, a change's diff,
 * a record's history and its row as of a moment, the table as of now, a revert's SQL, the databases, the database
 * and its tables, the tokens and the activity log, plus hostile filters in the URL. Any dialog, any element the
 * payloads would create and the flag their scripts would set fail the test. Its own source server, removed at the
 * end. Screenshots go to SCREENS (1280 and 390 px).
 */

const SCREENS = process.env.SCREENS_DIR ?? "test-results/hostile-values";

/** Each payload, run anywhere, sets window.__xss to its number (and opens a dialog). */
const payload = (n: number) =>
  `<img src=x onerror="window.__xss=${n};alert(${n})">"><script>window.__xss=${n};alert(${n})</script>` +
  `<svg onload="window.__xss=${n}"></svg>'"><iframe srcdoc="<script>parent.__xss=${n}</script>"></iframe>`;
const COLUMN = payload(1);
const VALUE = payload(2);
const CONTEXT = JSON.stringify({ user: payload(3), [payload(4)]: "key" });
const NAME = `shop ${payload(5)}`.slice(0, 100);
const TOKEN = `ci ${payload(6)}`.slice(0, 100);
const quoted = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

let source: TestServer;
let databaseId = "";
const changeIds: string[] = [];
const dialogs: string[] = [];

test.describe.configure({ mode: "serial" });

async function changesOf(page: Page): Promise<{ id: string; operation: string }[]> {
  const response = await page.request.get(`/api/changes?sourceId=${databaseId}&limit=500`);
  expect(response.ok(), await response.text()).toBe(true);
  return ((await response.json()) as { changes: { id: string; operation: string }[] }).changes;
}

/** Fails on anything the payloads would have done: a dialog, the flag, an element they create. */
async function expectInert(page: Page, what: string) {
  // Let late scripts (hydration, queries) run first.
  await page.waitForLoadState("networkidle");
  expect(dialogs, `${what}: dialogs`).toEqual([]);
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), `${what}: a payload ran`).toBe(
    undefined,
  );
  const injected = await page.evaluate(() => {
    const found: string[] = [];
    for (const element of document.querySelectorAll('img[src="x"], svg[onload], iframe[srcdoc], [onerror], [onload]'))
      found.push(element.outerHTML.slice(0, 120));
    for (const script of document.querySelectorAll("script"))
      if (/^window\.__xss=/.test(script.textContent ?? "")) found.push(script.outerHTML.slice(0, 120));
    return found;
  });
  expect(injected, `${what}: injected elements`).toEqual([]);
}

async function shoot(page: Page, name: string) {
  fs.mkdirSync(SCREENS, { recursive: true });
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: path.join(SCREENS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

test.beforeAll(async ({ playwright }, testInfo) => {
  testInfo.setTimeout(240_000);
  source = await startTestServer();
  await source.createDatabase("hostile");
  const run = (sql: string, params?: unknown[]) => source.query(sql, params, "hostile");
  await run(`create table public.items (id int primary key, name text, ${quoted(COLUMN)} text, meta jsonb)`);
  const request = await playwright.request.newContext({ baseURL: testInfo.project.use.baseURL });
  await signIn(request);
  const connected = await request.post("/api/databases", {
    data: {
      host: "localhost",
      port: source.port,
      database: "hostile",
      username: "postgres",
      password: source.password,
      environment: "test",
      name: NAME,
      tables: ["public.items"],
    },
  });
  expect(connected.status(), await connected.text()).toBe(201);
  databaseId = ((await connected.json()) as { database: { id: string } }).database.id;
  expect((await request.post("/api/tokens", { data: { name: TOKEN, role: "viewer" } })).status()).toBe(201);
  const client = new pg.Client({ connectionString: source.url("hostile") });
  await client.connect();
  try {
    await client.query("begin");
    await client.query("select pg_logical_emit_message(true, '_retrace', $1)", [CONTEXT]);
    await client.query("insert into items values (1, $1, $1, jsonb_build_object('html', $1::text))", [VALUE]);
    await client.query("insert into items values (2, 'plain', 'plain', '{}')");
    await client.query("commit");
    await client.query(`update items set name = 'renamed', ${quoted(COLUMN)} = $1 where id = 1`, [`${VALUE} again`]);
    await client.query("delete from items where id = 2");
  } finally {
    await client.end();
  }
  const poll = await playwright.request.newContext({ baseURL: testInfo.project.use.baseURL });
  await signIn(poll);
  await expect
    .poll(
      async () => {
        const response = await poll.get(`/api/changes?sourceId=${databaseId}&limit=500`);
        return ((await response.json()) as { changes: unknown[] }).changes.length;
      },
      { timeout: 90_000 },
    )
    .toBe(4);
  await poll.dispose();
  await request.dispose();
});

test.afterAll(async ({ playwright }, testInfo) => {
  await removeDatabaseAndStop(playwright, testInfo.project.use.baseURL, databaseId, source);
});

test.beforeEach(async ({ page }) => {
  dialogs.length = 0;
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await signIn(page.request);
  if (changeIds.length === 0) changeIds.push(...(await changesOf(page)).map((c) => c.id));
});

test("the changes list, a change's diff and its transaction show hostile values as text", async ({ page }) => {
  await page.goto(`/changes?sourceId=${databaseId}`);
  // The update names the hostile column it changed; the insert shows the hostile context.
  await expect(page.locator("main")).toContainText("changed name", { timeout: 30_000 });
  await expect(page.locator("main")).toContainText("window.__xss=3");
  await expectInert(page, "changes list");
  await shoot(page, "changes-list");

  for (const id of changeIds) {
    await page.goto(`/changes/${id}`);
    await expect(page.locator("main")).toContainText("items");
    await expectInert(page, `change ${id}`);
  }
  // The update's diff shows the hostile column name and both values, as text.
  const update = changeIds[1] ?? "";
  await page.goto(`/changes/${update}`);
  await expect(page.locator("main")).toContainText(COLUMN.slice(0, 30));
  await expect(page.locator("main")).toContainText("again");
  await expectInert(page, "update diff");
  await shoot(page, "change-diff");

  // The context filter and the context shown with it.
  await page.goto(`/changes?context=${encodeURIComponent(JSON.stringify({ user: payload(3) }))}`);
  await expectInert(page, "changes by context");
});

test("a record's history, the row as of now and the table as of now show hostile values as text", async ({ page }) => {
  const table = "public.items";
  await page.goto(`/records?sourceId=${databaseId}&table=${table}&primaryKey=1`);
  await expect(page.locator("main")).toContainText("renamed");
  await expectInert(page, "record history");
  await shoot(page, "record-history");

  const now = encodeURIComponent(new Date().toISOString());
  await page.goto(`/records?sourceId=${databaseId}&table=${table}&primaryKey=1&at=${now}`);
  await expectInert(page, "record as of");

  await page.goto(`/tables?sourceId=${databaseId}&table=${table}&at=${now}`);
  await expect(page.locator("main")).toContainText("renamed");
  await expectInert(page, "table as of");
  await shoot(page, "table-as-of");
});

test("a revert's SQL shows hostile identifiers and values as text", async ({ page }) => {
  await page.goto(`/reverts?transactionOf=${changeIds.at(-1) ?? ""}`);
  await expect(page.locator("main")).toContainText(/insert|update|delete/i, { timeout: 30_000 });
  await expectInert(page, "revert of the first transaction");
  await page.goto(`/reverts?changeId=${changeIds[1] ?? ""}`);
  await expect(page.locator("main")).toContainText(/update|insert|delete/i, { timeout: 30_000 });
  await expectInert(page, "revert of the update");
  await shoot(page, "revert");
});

test("databases, tokens and the activity log show hostile names as text", async ({ page }) => {
  for (const url of ["/databases", `/databases/${databaseId}`, `/databases/${databaseId}/tables`, "/settings/tokens"]) {
    await page.goto(url);
    await expect(page.locator("main")).toBeVisible();
    await expectInert(page, url);
  }
  await page.goto("/activity");
  await expect(page.locator("main")).toContainText("ci ");
  await expectInert(page, "activity");
  await shoot(page, "activity");
});

test("hostile filters in the URL are shown as text, and NUL bytes are a message, not a server error", async ({
  page,
}) => {
  const hostile = encodeURIComponent(payload(7));
  for (const url of [
    `/changes?table=${hostile}`,
    `/changes?database=${hostile}&field=${hostile}`,
    `/records?table=${hostile}&primaryKey=${hostile}`,
    `/tables?table=${hostile}&at=${encodeURIComponent(new Date().toISOString())}`,
    `/reverts?context=${hostile}`,
  ]) {
    const response = await page.goto(url);
    expect(response?.status(), url).toBeLessThan(500);
    await expectInert(page, url);
  }
  for (const url of [
    "/changes?table=%00",
    "/records?table=%00&primaryKey=1",
    "/tables?table=%00&at=2026-01-01T00:00Z",
  ]) {
    const response = await page.goto(url);
    expect(response?.status(), url).toBeLessThan(500);
  }
});
