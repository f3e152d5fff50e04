import { expect, test, type Page } from "@playwright/test";
import { startTestServer, type TestServer } from "../test/support/postgres";
import { checkPage, WIDTHS } from "./support/layout";
import { signIn } from "./support/sign-in";

/**
 * The tracked tables page of a database of its own source server: "Track new tables automatically" turned on in
 * the page captures a table created afterwards, with its changes; a column excluded (and one masked) in the page
 * never reaches the trail; an identity changed at the source is flagged and fixed in one click; a tracked table
 * dropped at the source is shown as dropped and saving the list back works. The database is removed at the end,
 * so the specs after this one see what the journey left. Screenshots at both widths go to SHOTS_DIR when set.
 */

let source: TestServer;
const DATABASE = "inventory";

test.beforeAll(async () => {
  source = await startTestServer();
  await source.createDatabase(DATABASE);
  await source.query(
    `create table public.items (id int primary key, name text, secret text, updated_at timestamptz default now());
     create table public.doomed (id int primary key);
     create table public.probe (id serial primary key, updated_at timestamptz default now());
     create schema ops;
     create table ops.jobs (id bigint primary key, state text);`,
    [],
    DATABASE,
  );
});

test.afterAll(async () => {
  await source?.stop();
});

const sourceQuery = (sql: string, params: unknown[] = []) => source.query(sql, params, DATABASE);

type Change = {
  table: string;
  operation: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
};

async function changesOf(page: Page, table: string): Promise<Change[]> {
  const response = await page.request.get(`/api/changes?database=${DATABASE}&table=${table}`);
  return ((await response.json()) as { changes: Change[] }).changes;
}

/**
 * The worker picks up new column rules by restarting its stream (within its poll interval): write a row to the
 * probe table until its change arrives without `updated_at`.
 */
async function waitForRules(page: Page) {
  await expect
    .poll(
      async () => {
        await sourceQuery("insert into public.probe default values");
        const probes = await changesOf(page, "probe");
        return probes.some((c) => c.after !== null && !("updated_at" in c.after));
      },
      { timeout: 60_000, intervals: [1_000] },
    )
    .toBe(true);
}

test("new tables are tracked automatically, columns are excluded and masked, identities are fixed", async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  await signIn(page.request);
  const connected = await page.request.post("/api/databases", {
    data: {
      host: "localhost",
      port: source.port,
      database: DATABASE,
      username: "postgres",
      password: source.password,
      environment: "test",
      tables: ["public.items", "public.doomed", "public.probe"],
    },
  });
  expect(connected.status(), await connected.text()).toBe(201);
  const { database } = (await connected.json()) as { database: { id: string } };
  const tablesPath = `/databases/${database.id}/tables`;

  await page.goto(tablesPath);
  await expect(page.getByRole("rowgroup", { name: "Schema public" })).toBeVisible();
  await expect(page.getByRole("rowgroup", { name: "Schema ops" })).toBeVisible();

  // Track new tables automatically, from the page. The page arrives in the server's HTML; a click before it has
  // hydrated is undone by React, so check until it holds (check() does nothing once it is checked).
  await expect(async () => {
    await page.getByRole("checkbox", { name: "Track new tables automatically" }).check({ timeout: 3_000 });
  }).toPass({ timeout: 30_000 });
  await expect(page.getByText("On: new tables are tracked as they are created.")).toBeVisible();

  // Exclude updated_at everywhere, mask items.secret, skip updates of excluded columns alone.
  await page.getByLabel("Column pattern").fill("*.updated_at");
  await page.getByRole("button", { name: "Add rule" }).click();
  await page.getByLabel("Column pattern").fill("public.items.secret");
  await page.getByLabel("Action", { exact: true }).selectOption("mask");
  await page.getByRole("button", { name: "Add rule" }).click();
  // Each rule says what it matches among the tracked tables' columns.
  const rulesList = page.getByRole("list", { name: "Column rules" });
  await expect(rulesList).toContainText("Matches 2 columns: public.items.updated_at, public.probe.updated_at");
  await expect(rulesList).toContainText("Matches 1 column: public.items.secret");
  await page.getByLabel("Skip updates that changed only excluded columns").check();
  await page.getByRole("button", { name: "Apply column rules" }).click();
  await expect(page.getByText("Saved. Changes captured from now on follow these rules.")).toBeVisible();
  await waitForRules(page);

  // A table created after connecting, and changes to a tracked one.
  await sourceQuery(
    `create table public.shipments (id int primary key, carrier text);
     insert into public.shipments values (1, 'post');
     update public.shipments set carrier = 'courier' where id = 1;
     insert into public.items (id, name, secret) values (1, 'bolt', 's3cret');
     update public.items set updated_at = now() + interval '1 hour' where id = 1;`,
  );
  await expect.poll(async () => (await changesOf(page, "shipments")).length, { timeout: 30_000 }).toBe(2);
  const shipments = await changesOf(page, "shipments");
  const update = shipments.find((c) => c.operation === "UPDATE");
  expect(update?.before).toEqual({ id: 1, carrier: "post" });
  expect(update?.after).toEqual({ id: 1, carrier: "courier" });
  await expect.poll(async () => (await changesOf(page, "items")).length, { timeout: 30_000 }).toBe(1);
  const [item] = await changesOf(page, "items");
  expect(Object.keys(item?.after ?? {})).toEqual(["id", "name", "secret"]);
  expect(String(item?.after?.secret)).toMatch(/^hmac:[0-9a-f]{32}$/);

  // The new table shows up in the trail and as tracked, with FULL identity.
  await page.goto(`/changes?database=${DATABASE}`);
  await expect(page.getByText("shipments").first()).toBeVisible();
  await page.goto(tablesPath);
  await expect(page.getByLabel("public.shipments", { exact: true })).toBeChecked();

  // Someone changes an identity at the source, and a tracked table is dropped.
  await sourceQuery("alter table public.items replica identity default; drop table public.doomed");
  await page.reload();
  await expect(page.getByRole("heading", { name: "Dropped at the source" })).toBeVisible();
  await expect(page.getByTestId("identity-drift")).toContainText("Default: changed since tracking");

  for (const width of WIDTHS) {
    await checkPage(
      page,
      { name: "tracked-tables", path: tablesPath, ready: (p) => p.getByTestId("identity-drift"), signedIn: true },
      width,
      testInfo,
    );
    if (process.env.SHOTS_DIR) {
      await page.screenshot({ path: `${process.env.SHOTS_DIR}/tracked-tables-${width.width}.png`, fullPage: true });
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });

  await page.getByRole("button", { name: "Set REPLICA IDENTITY FULL on public.items" }).click();
  await expect(page.getByTestId("identity-drift")).toHaveCount(0);
  const identity = await sourceQuery(
    "select relreplident::text as ident from pg_class where oid = 'public.items'::regclass",
  );
  expect((identity.rows[0] as { ident: string }).ident).toBe("f");

  // Saving the list back with the dropped table gone from the source works.
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText(/Tracking \d+ tables/)).toBeVisible();
  await expect(page.getByRole("heading", { name: "Dropped at the source" })).toHaveCount(0);

  const removed = await page.request.delete(`/api/databases/${database.id}`);
  expect(removed.status()).toBe(200);
});
