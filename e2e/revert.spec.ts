import { expect, test, type APIRequestContext } from "@playwright/test";
import { startTestServer, type TestServer } from "../test/support/postgres";
import { checkPage, WIDTHS } from "./support/layout";
import { connectDatabase, removeDatabaseAndStop } from "./support/connect";
import { signIn } from "./support/sign-in";

/**
 * The revert flow as an admin clicks it: from a change, "Revert transaction" shows the SQL and no conflicts;
 * Execute opens a confirmation that shows the SQL; Cancel writes nothing; Run revert restores the rows and the
 * revert's changes appear in the trail, labelled. From the list filtered by a context value, "Revert matching
 * context" then shows the conflicts (the rows changed again since) and will not execute. Its own source server
 * and database ("ledger"), removed at the end. Screenshots of the revert page at both widths go to the test's
 * output directory.
 */

let source: TestServer;
let databaseId = "";
const CONTEXT = { request_id: "req-e2e-revert" };
const run = (sql: string, params?: unknown[]) => source.query(sql, params, "ledger");
const rows = async () =>
  (await run("select id, owner, balance::text as balance, meta::text as meta from accounts order by id")).rows;

async function ledgerChanges(request: APIRequestContext, query: string) {
  const response = await request.get(`/api/changes?database=ledger&limit=500&${query}`);
  expect(response.ok()).toBe(true);
  return ((await response.json()) as { changes: { id: string; operation: string }[] }).changes;
}

async function captured(request: APIRequestContext, query: string, count: number) {
  await expect.poll(async () => (await ledgerChanges(request, query)).length, { timeout: 60_000 }).toBe(count);
  return ledgerChanges(request, query);
}

let before: unknown[] = [];

test.describe.configure({ mode: "serial" });

test.beforeAll(async ({ playwright }, testInfo) => {
  testInfo.setTimeout(240_000);
  source = await startTestServer();
  await source.createDatabase("ledger");
  await run("create table public.accounts (id int primary key, owner text, balance numeric, meta jsonb)");
  const request = await playwright.request.newContext({ baseURL: testInfo.project.use.baseURL });
  await signIn(request);
  databaseId = await connectDatabase(request, source, "ledger", ["public.accounts"]);
  await run(`insert into accounts values (1, 'Ann ''the first''', 100.50, '{"tier": "gold"}'),
                                         (2, 'Bob', 12345678901234567890.25, 'null')`);
  await captured(request, "", 2);
  before = await rows();
  await run(`begin;
    select pg_logical_emit_message(true, '_retrace', '${JSON.stringify(CONTEXT)}');
    update accounts set balance = 0, meta = null where id = 1;
    delete from accounts where id = 2;
    insert into accounts values (3, 'Cy', 1, '[]');
    commit;`);
  await captured(request, "", 5);
  await request.dispose();
});

test.afterAll(async ({ playwright }, testInfo) => {
  await removeDatabaseAndStop(playwright, testInfo.project.use.baseURL, databaseId, source);
});

test.beforeEach(async ({ page }) => {
  await signIn(page.request);
});

test("an admin reverts a transaction from its change, after a confirmation that shows the SQL", async ({
  page,
}, testInfo) => {
  const [update] = await ledgerChanges(page.request, "operation=UPDATE");
  await page.goto(`/changes/${update?.id ?? ""}`);
  await expect(page.getByRole("link", { name: "Revert this change" })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("change-with-revert-1280.png"), fullPage: true });
  await page.getByRole("link", { name: "Revert transaction" }).click();
  await expect(page).toHaveURL(/\/reverts\?transactionOf=\d+/);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Revert the transaction of change");
  await expect(page.getByText("No conflicts")).toBeVisible();
  const sql = page.locator("pre").first();
  await expect(sql).toContainText(`DELETE FROM "public"."accounts" WHERE "id" = '3'::integer;`);
  await expect(sql).toContainText(`'12345678901234567890.25'::numeric`);
  await expect(sql).toContainText(`'null'::jsonb`);
  await expect(sql).toContainText(`UPDATE "public"."accounts" SET`);

  // Cancel writes nothing.
  await page.getByRole("button", { name: "Execute revert…" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await expect(dialog.locator("pre")).toContainText("pg_logical_emit_message(true, '_retrace'");
  await expect(dialog.locator("pre")).toContainText(`DELETE FROM "public"."accounts"`);
  await page.screenshot({ path: testInfo.outputPath("revert-confirm-1280.png") });
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  expect((await rows()).length).toBe(2);
  expect(await rows()).not.toEqual(before);

  await page.getByRole("button", { name: "Execute revert…" }).click();
  await dialog.getByRole("button", { name: "Run revert" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Reverted" })).toContainText(
    "3 statements ran and changed 3 rows",
  );
  expect(await rows()).toEqual(before);
  await page.screenshot({ path: testInfo.outputPath("revert-done-1280.png"), fullPage: true });
  // The revert's changes, in the trail, labelled.
  const labelled = await captured(page.request, `context=${encodeURIComponent('{"retrace":"revert"}')}`, 3);
  await page.goto(`/changes/${labelled[0]?.id ?? ""}`);
  await expect(page.getByTestId("context")).toContainText("revert");
});

test("Revert matching context lists the conflicts and will not execute", async ({ page }, testInfo) => {
  await page.goto(`/changes?context=${encodeURIComponent(JSON.stringify(CONTEXT))}`);
  await expect(page.getByRole("link", { name: "Revert matching context" })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath("list-revert-context-1280.png") });
  await page.getByRole("link", { name: "Revert matching context" }).click();
  await expect(page).toHaveURL(/\/reverts\?context=/);
  // Each row was changed again by the revert, and none is as the reverted changes left it.
  await expect(page.getByRole("heading", { name: "6 conflicts" })).toBeVisible();
  const conflicts = page.getByRole("listitem");
  await expect(conflicts.filter({ hasText: /Changed again later by change \d+/ })).toHaveCount(3);
  await expect(conflicts.filter({ hasText: "Row gone" })).toContainText("The row no longer exists at the source.");
  await expect(conflicts.filter({ hasText: "Row back" })).toContainText("exists again at the source");
  await expect(conflicts.filter({ hasText: "Row differs" })).toContainText('"balance", "meta"');
  await expect(page.getByRole("button", { name: "Execute revert…" })).toBeDisabled();
});

test("the revert pages fit a phone and a laptop", async ({ page }, testInfo) => {
  const [update] = await ledgerChanges(page.request, "operation=UPDATE");
  const checks = [
    {
      name: "revert-conflicts",
      path: `/reverts?context=${encodeURIComponent(JSON.stringify(CONTEXT))}`,
      ready: () => page.getByRole("heading", { name: /conflicts/ }),
    },
    {
      name: "revert-change",
      path: `/reverts?changeId=${update?.id ?? ""}`,
      ready: () => page.getByRole("heading", { name: "SQL" }),
    },
    { name: "revert-form", path: "/reverts", ready: () => page.getByRole("button", { name: "Show revert SQL" }) },
  ];
  for (const width of WIDTHS) {
    for (const check of checks) await checkPage(page, { ...check, signedIn: true }, width, testInfo);
    // The confirmation, at this width: the SQL scrolls inside it, Cancel and Run revert stay reachable.
    await page.goto(`/reverts?changeId=${update?.id ?? ""}`);
    await page.getByRole("button", { name: "Execute revert…" }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog.getByRole("button", { name: "Run revert" })).toBeInViewport();
    await page.screenshot({ path: testInfo.outputPath(`revert-confirm-${width.width}.png`) });
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
  }
});
