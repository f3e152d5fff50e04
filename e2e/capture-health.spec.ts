import { expect, test, type Page } from "@playwright/test";
import { startTestServer, type TestServer } from "../test/support/postgres";
import { checkPage, WIDTHS } from "./support/layout";
import { signIn } from "./support/sign-in";

/**
 * A database whose server stops: the Changes page stops saying "Live" and names the database, why, and where
 * the fix is; the databases pages give the error as a user can act on it, with its fix and no stale lag. Once
 * the server is back, the page is live again. Its own source server (the journey's "shop", staging, keeps
 * streaming beside it); the database is removed at the end, so the specs after this one see what the journey
 * left. Screenshots of every page in this state, at both widths, go to the test's output directory.
 */

let source: TestServer;

test.beforeAll(async () => {
  source = await startTestServer();
  await source.createDatabase("warehouse");
  await source.query("create table public.stock (sku text primary key, qty int not null)", [], "warehouse");
});

test.afterAll(async () => {
  await source?.stop();
});

const banner = (page: Page) => page.getByRole("alert", { name: "Capture health" });
const live = (page: Page) => page.getByText("Live", { exact: true });

test("a stopped source shows on the changes and databases pages, with the reason and the fix", async ({
  page,
}, testInfo) => {
  test.setTimeout(300_000);
  await signIn(page.request);

  const connected = await page.request.post("/api/databases", {
    data: {
      host: "localhost",
      port: source.port,
      database: "warehouse",
      username: "postgres",
      password: source.password,
      environment: "production",
      tables: ["public.stock"],
    },
  });
  expect(connected.status()).toBe(201);
  const { database } = (await connected.json()) as { database: { id: string } };
  const where = `localhost:${source.port}`;

  await source.query("insert into public.stock values ('SKU-1', 3)", [], "warehouse");
  let changeId = "";
  await expect
    .poll(
      async () => {
        const body = (await (await page.request.get("/api/changes?database=warehouse")).json()) as {
          changes: { id: string }[];
        };
        changeId = body.changes[0]?.id ?? "";
        return changeId;
      },
      { timeout: 30_000 },
    )
    .not.toBe("");
  await page.goto("/changes?database=warehouse");
  await expect(live(page)).toBeVisible({ timeout: 30_000 });
  await expect(banner(page)).toHaveCount(0);

  // The source's server stops.
  await source.halt();
  try {
    await page.goto("/changes");
    await expect(banner(page)).toContainText("Capture of warehouse is failing", { timeout: 30_000 });
    await expect(banner(page)).toContainText(`Could not reach ${where}: connection refused.`, { timeout: 30_000 });
    await expect(banner(page)).toContainText("Failing since");
    await expect(banner(page).getByRole("link", { name: "How to fix it" })).toHaveAttribute(
      "href",
      `/databases/${database.id}`,
    );
    await expect(
      page.getByRole("status").filter({ hasText: "Not live: capture of warehouse is failing" }),
    ).toBeVisible();
    await expect(live(page)).toHaveCount(0);

    // A view of the databases that stream is live.
    await page.goto("/changes?environment=staging");
    await expect(page.getByTestId("change-row").first()).toBeVisible();
    await expect(live(page)).toBeVisible();
    await expect(banner(page)).toHaveCount(0);

    // The databases list: the error as a user can act on it, its fix, and no lag from before it stopped.
    await page.goto("/databases");
    const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: "warehouse", exact: true }) });
    await expect(row).toContainText("Error");
    await expect(row).toContainText(`Could not reach ${where}: connection refused.`);
    await expect(row).toContainText(`Fix: Check that PostgreSQL is running on ${where}`);
    await expect(row).toContainText("Unknown");
    await expect(row).toContainText("last measured");
    await expect(row).not.toContainText("ECONNREFUSED");
    await expect(row).not.toContainText("0 B");

    // The database's page: since when, and the fix ready to copy.
    await page.goto(`/databases/${database.id}`);
    const panel = page.getByRole("alert").filter({ has: page.getByRole("heading", { name: "Capture is failing" }) });
    await expect(panel).toContainText(`Could not reach ${where}: connection refused.`);
    await expect(panel).toContainText("Failing since");
    await expect(panel.locator("pre")).toContainText(`Check that PostgreSQL is running on ${where}`);

    // A change of that database says so too.
    await page.goto(`/changes/${changeId}`);
    await expect(banner(page)).toContainText("Capture of warehouse is failing");

    for (const width of WIDTHS) {
      const pages = [
        { name: "health-changes", path: "/changes", ready: () => banner(page) },
        { name: "health-change", path: `/changes/${changeId}`, ready: () => banner(page) },
        { name: "health-databases", path: "/databases", ready: () => row },
        { name: "health-database", path: `/databases/${database.id}`, ready: () => panel },
      ];
      for (const check of pages) await checkPage(page, { ...check, signedIn: true }, width, testInfo);
    }
  } finally {
    await source.resume();
  }

  // Back: live again, without the banner (the worker retries with a backoff of up to 30 s).
  await page.goto("/changes?database=warehouse");
  await expect(live(page)).toBeVisible({ timeout: 60_000 });
  await expect(banner(page)).toHaveCount(0);
  await page.goto("/databases");
  await expect(page.getByRole("row").filter({ hasText: "warehouse" })).not.toContainText("Could not reach");

  const removed = await page.request.delete(`/api/databases/${database.id}`);
  expect(removed.status()).toBe(200);
});
