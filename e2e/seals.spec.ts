import fs from "node:fs";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import pg from "pg";
import { expirePartitions } from "../lib/retention/expire";
import { startTestServer, type TestServer } from "../test/support/postgres";
import { WIDTHS } from "./support/layout";
import { signIn } from "./support/sign-in";
import { connectStore, storeUrl } from "./support/store";

/**
 * Tamper evidence in the browser: the database page's Verify button says the trail verifies, and once an image
 * is edited in the store behind Retrace's back it names that change; put back, it verifies again. Its own
 * source server; the database is removed at the end. Screenshots of both outcomes at both widths go to
 * E2E_SHOTS_DIR (default /work/shots/seals) when that directory can be made, and to the test's output directory.
 */

let source: TestServer;
let store: pg.Client;
const ENVIRONMENT = "seals-e2e";

test.beforeAll(async () => {
  source = await startTestServer();
  await source.createDatabase("ledger");
  await source.query("create table public.entries (id int primary key, amount numeric not null)", [], "ledger");
  store = await connectStore();
});

test.afterAll(async () => {
  await store?.end();
  await source?.stop();
});

async function shoot(page: Page, name: string, testInfo: { outputPath(name: string): string }) {
  const file = `${name}.png`;
  await page.screenshot({ path: testInfo.outputPath(file), fullPage: true });
  try {
    const dir = process.env.E2E_SHOTS_DIR ?? "/work/shots/seals";
    fs.mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: path.join(dir, file), fullPage: true });
  } catch {
    // Only the test's output directory, then.
  }
}

test("Verify on the database page: passes on the untouched trail, names an edited change", async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  await signIn(page.request);
  const connected = await page.request.post("/api/databases", {
    data: {
      host: "localhost",
      port: source.port,
      database: "ledger",
      username: "postgres",
      password: source.password,
      environment: ENVIRONMENT,
      tables: ["public.entries"],
    },
  });
  expect(connected.status()).toBe(201);
  const { database } = (await connected.json()) as { database: { id: string } };
  await source.query("insert into public.entries values (1, 10.50), (2, 20), (3, 30)", [], "ledger");
  await source.query("update public.entries set amount = 21 where id = 2", [], "ledger");

  // Stored and sealed (the worker seals within seconds of storing).
  await expect
    .poll(
      async () => {
        const { rows } = await store.query<{ n: number }>(
          "select count(*)::int as n from change_seals where source_id = $1",
          [database.id],
        );
        return rows[0]?.n;
      },
      { timeout: 60_000 },
    )
    .toBe(4);

  const verify = page.getByRole("button", { name: "Verify", exact: true });
  const result = page.getByTestId("verify-result");
  for (const width of WIDTHS) {
    await page.setViewportSize({ width: width.width, height: width.height });
    await page.goto(`/databases/${database.id}`);
    await expect(page.getByRole("heading", { name: "Tamper evidence" })).toBeVisible();
    await verify.focus();
    await page.keyboard.press("Enter");
    await expect(result).toContainText("The trail verifies: 4 changes as sealed, up to change");
    await expect(page.getByTestId("seal-status")).toContainText("Every stored change is sealed, up to change");
    await shoot(page, `verify-ok-${width.name}`, testInfo);
  }

  // How far the chain reaches, as the panel says it: behind the newest stored change (here a newest change time set
  // ahead by hand), and an upgrade's seals still to complete (lib/seals/backfill.ts).
  const status = page.getByTestId("seal-status");
  const { rows: stamped } = await store.query<{ at: Date | null }>(
    "select last_change_at as at from sources where id = $1",
    [database.id],
  );
  await store.query("update sources set last_change_at = now() + interval '1 hour' where id = $1", [database.id]);
  // Many positions to go, held so that the worker's sealer (which skips a locked row) leaves it meanwhile; a batch
  // it may take before the lock only lowers the count.
  await store.query("insert into seal_row_backfill (source_id, pending_to) values ($1, 4000000)", [database.id]);
  const holder = new pg.Client({ connectionString: storeUrl() });
  await holder.connect();
  await holder.query("begin");
  await holder.query("select 1 from seal_row_backfill where source_id = $1 for update", [database.id]);
  try {
    for (const width of WIDTHS) {
      await page.setViewportSize({ width: width.width, height: width.height });
      await page.goto(`/databases/${database.id}`);
      await expect(status).toContainText("Sealed up to change");
      await expect(status).toContainText("(the sealer is catching up)");
      await expect(status).toContainText(/Completing the seals of changes stored before this version \([\d,]+ to go\)/);
      await shoot(page, `seal-status-behind-${width.name}`, testInfo);
    }
  } finally {
    await holder.query("rollback");
    await holder.end();
    await store.query("delete from seal_row_backfill where source_id = $1", [database.id]);
    await store.query("update sources set last_change_at = $2 where id = $1", [database.id, stamped[0]?.at ?? null]);
  }

  const { rows } = await store.query<{ id: string; after: string }>(
    `select id::text, after::text from changes where source_id = $1 order by commit_lsn, seq offset 1 limit 1`,
    [database.id],
  );
  const target = rows[0];
  if (!target) throw new Error("no change to edit");
  await store.query(`update changes set after = '{"id":2,"amount":2000}' where id = $1`, [target.id]);
  try {
    for (const width of WIDTHS) {
      await page.setViewportSize({ width: width.width, height: width.height });
      await page.goto(`/databases/${database.id}`);
      await verify.click();
      await expect(result).toContainText("A change was altered after it was sealed.");
      await expect(result).toContainText(`Change ${target.id} (entries, key`);
      await expect(result.getByRole("link", { name: `Open change ${target.id}` })).toHaveAttribute(
        "href",
        `/changes/${target.id}`,
      );
      await shoot(page, `verify-altered-${width.name}`, testInfo);
    }
  } finally {
    await store.query("update changes set after = $2::json where id = $1", [target.id, target.after]);
  }
  await page.goto(`/databases/${database.id}`);
  await verify.click();
  await expect(result).toContainText("The trail verifies: 4 changes");

  // Retention drops the month's partition (a rule of a day, the expirer's clock 40 days ahead): verify counts
  // its sealed changes as expired, not removed.
  await store.query(`insert into retention_rules (environment, "table", days) values ($1, '', 1)`, [ENVIRONMENT]);
  const secret =
    process.env.RETRACE_SECRET ?? fs.readFileSync(path.resolve(".test-data/e2e-store/secret"), "utf8").trim();
  const pool = new pg.Pool({ connectionString: storeUrl(), max: 2 });
  try {
    await expect
      .poll(
        async () => {
          await expirePartitions(pool, secret, { now: new Date(Date.now() + 40 * 86_400_000) });
          const { rows } = await store.query<{ n: number }>(
            "select count(*)::int as n from trail_expiries where source_id = $1",
            [database.id],
          );
          return rows[0]?.n;
        },
        { timeout: 30_000 },
      )
      .toBe(1);
  } finally {
    await pool.end();
    await store.query("delete from retention_rules where environment = $1", [ENVIRONMENT]);
  }
  for (const width of WIDTHS) {
    await page.setViewportSize({ width: width.width, height: width.height });
    await page.goto(`/databases/${database.id}`);
    await verify.click();
    await expect(result).toContainText("The trail verifies: 0 changes as sealed");
    await expect(result).toContainText("4 older changes were dropped by retention");
    await shoot(page, `verify-expired-${width.name}`, testInfo);
  }

  // Each run is in the audit log.
  const audit = (await (await page.request.get("/api/audit?action=database.verify")).json()) as {
    events: { action: string }[];
  };
  expect(audit.events.length).toBeGreaterThanOrEqual(7);

  const removed = await page.request.delete(`/api/databases/${database.id}`);
  expect(removed.status()).toBe(200);
});
