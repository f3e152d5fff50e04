import { expect, test } from "@playwright/test";
import { checkPage, WIDTHS } from "./support/layout";
import { formatBytes } from "../lib/storage/bytes";
import { signIn } from "./support/sign-in";

/**
 * The Storage page on what the journey left (the "shop" database in staging, with its changes): the trail's
 * size, the growth chart, the sizes per environment, database and table (the tables' marked as estimates), and
 * what retention frees; at a phone's width and a laptop's. Where the numbers are, the page says which are bytes on
 * disk (environments, databases: they add up to the trail, partitions made ahead included) and which are estimates
 * (tables: they add up to the trail less those). The figures themselves are checked against the catalog in
 * test/retention.int.test.ts.
 */

const SCREENS = process.env.SCREENS_DIR;

test("the storage page shows the trail's size, its growth and its tables, on a phone and a laptop", async ({
  page,
}, testInfo) => {
  await signIn(page.request);
  await page.goto("/changes");
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Storage" }).click();
  await expect(page).toHaveURL(/\/storage$/);
  await expect(page.getByRole("heading", { name: "Storage", exact: true })).toBeVisible();

  const report = (await (await page.request.get("/api/storage")).json()) as {
    trail: {
      rows: number;
      bytes: number;
      empty: { partitions: number; bytes: number };
      unpartitioned: { bytes: number };
    };
    environments: { name: string }[];
    tables: { estimatedBytes: number }[];
  };
  expect(report.trail.rows).toBeGreaterThan(0);
  const rows = report.trail.rows.toLocaleString("en-US");
  await expect(page.getByText(new RegExp(`^${rows} changes( in [0-9,]+ partitions?)?$`))).toBeVisible();
  const chart = page.getByTestId("growth-chart");
  await expect(chart.locator("svg .recharts-bar-rectangle").first()).toBeVisible();
  await expect(chart).toContainText("in the last 30 days");

  const environments = page.getByRole("table", { name: "Size by environment" });
  await expect(environments.getByRole("row", { name: /staging/ })).toBeVisible();
  await expect(page.getByRole("table", { name: "Size by database" }).getByRole("row", { name: /shop/ })).toBeVisible();
  const items = page.getByRole("table", { name: "Size by table" }).getByRole("row", { name: /public\.items/ });
  await expect(items).toContainText("~");

  // Which numbers are on disk and which are estimates, and what each adds up to, said at the tables.
  for (const name of ["Size by environment", "Size by database"]) {
    const table = page.getByRole("table", { name });
    await expect(table.getByRole("columnheader", { name: "On disk" })).toBeVisible();
    await expect(table.getByTestId("size-total")).toContainText(`The trail${formatBytes(report.trail.bytes)}`);
  }
  const byTable = page.getByRole("table", { name: "Size by table" });
  await expect(byTable.getByRole("columnheader", { name: "Estimate" })).toBeVisible();
  const tablesBytes = report.tables.reduce((sum, t) => sum + t.estimatedBytes, 0);
  await expect(byTable.getByTestId("size-total")).toContainText(`~${formatBytes(tablesBytes)}`);
  // The journey's trail has partitions made ahead (the keeper makes the next days'): the page says why the tables
  // add up to less.
  expect(report.trail.empty.partitions).toBeGreaterThan(0);
  await expect(page.getByText(`the ${formatBytes(report.trail.empty.bytes)} of partitions made ahead`)).toBeVisible();
  // The default partition is on disk even when empty and is no environment's: the rows add up to the trail with it.
  expect(report.trail.unpartitioned.bytes).toBeGreaterThan(0);
  const withDefault = `With the default partition (${formatBytes(report.trail.unpartitioned.bytes)}, for changes that`;
  await expect(page.getByText(withDefault)).toHaveCount(2);
  await expect(page.getByRole("heading", { name: "What retention frees" })).toBeVisible();
  await expect(page.getByRole("heading", { name: "Besides the trail" })).toBeVisible();
  await expect(page.getByText(/^Seals/)).toBeVisible();

  for (const width of WIDTHS) {
    const ready = () => page.getByTestId("growth-chart");
    await checkPage(page, { name: "storage", path: "/storage", ready, signedIn: true }, width, testInfo);
    if (SCREENS) await page.screenshot({ path: `${SCREENS}/storage-${width.width}.png`, fullPage: true });
  }
});
