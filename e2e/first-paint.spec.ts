import { expect, test } from "@playwright/test";
import { signIn } from "./support/sign-in";

/**
 * Pages render with their data on the server: with JavaScript off, the HTML itself holds the change rows, a
 * change's diff, the databases and a database. Runs after the journey (playwright.config.ts), on what it left:
 * its admin, the "shop" database tracking public.items, and 64 changes.
 */

test.describe("first paint, with JavaScript disabled", () => {
  test.use({ javaScriptEnabled: false });

  test.beforeEach(async ({ page }) => {
    await signIn(page.request);
  });

  test("the changes list and a change arrive in the HTML", async ({ page }) => {
    await page.goto("/changes");
    await expect(page.getByLabel("Loading changes")).toHaveCount(0);
    const rows = page.getByTestId("change-row");
    await expect(rows).toHaveCount(50);
    await expect(rows.first()).toBeVisible();
    await expect(rows.first()).toContainText("Create");
    await expect(rows.first()).toContainText("public.items");
    await expect(rows.first()).toContainText("SKU-NEW");
    await expect(page.getByRole("button", { name: "Load more" })).toBeVisible();

    await page.goto("/changes?operation=UPDATE");
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText("SKU-1");
    const href = await rows.first().getByRole("link").getAttribute("href");
    expect(href).toMatch(/^\/changes\/\d+$/);

    await page.goto(href ?? "");
    await expect(page.getByLabel("Loading change")).toHaveCount(0);
    const diff = page.getByTestId("diff");
    await expect(diff).toBeVisible();
    await expect(diff).toContainText("Desk lamp");
    await expect(diff).toContainText("19.99");
    await expect(diff).toContainText("24.50");
  });

  test("the databases list and a database arrive in the HTML", async ({ page }) => {
    await page.goto("/databases");
    await expect(page.getByText("Loading databases…")).toHaveCount(0);
    const link = page.getByRole("link", { name: "shop", exact: true });
    await expect(link).toBeVisible();
    await expect(page.getByRole("row").filter({ has: link })).toContainText(
      `localhost:${process.env.E2E_SOURCE_PORT}/shop`,
    );

    await page.goto((await link.getAttribute("href")) ?? "");
    await expect(page.getByText("Loading database…")).toHaveCount(0);
    await expect(page.getByRole("heading", { level: 1 })).toContainText("shop");
    await expect(page.getByRole("heading", { name: "Tracked tables (1)" })).toBeVisible();
    await expect(page.getByText("public.items")).toBeVisible();
    await expect(page.getByText(/^retrace_/).first()).toBeVisible();
  });
});
