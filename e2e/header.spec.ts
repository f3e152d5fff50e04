import { mkdir } from "node:fs/promises";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { checkPage, WIDTHS } from "./support/layout";
import { signIn } from "./support/sign-in";

/**
 * The header at a phone's width: one row (brand, environment switcher, Menu), the links, the email and Sign out
 * behind the Menu button, which opens and closes from the keyboard and closes when a link is followed; at a
 * laptop's width everything is in the row and there is no Menu button. checkPage (support/layout.ts) checks the
 * row and Sign out on every page the layout specs visit. Screenshots go to SCREENS_DIR (default: the test's
 * output directory).
 */

const SCREENS_DIR = process.env.SCREENS_DIR;

function shotPath(name: string, testInfo: { outputPath(name: string): string }): string {
  return SCREENS_DIR ? path.join(SCREENS_DIR, `${name}.png`) : testInfo.outputPath(`${name}.png`);
}

test.beforeEach(async ({ page }) => {
  await signIn(page.request);
  if (SCREENS_DIR) await mkdir(SCREENS_DIR, { recursive: true });
});

test("the header fits a phone and a laptop on the changes, databases and storage pages", async ({ page }, testInfo) => {
  const pages = [
    { name: "header-changes", path: "/changes", ready: () => page.getByTestId("change-row").first() },
    {
      name: "header-databases",
      path: "/databases",
      ready: () => page.getByRole("link", { name: "shop", exact: true }),
    },
    { name: "header-storage", path: "/storage", ready: () => page.getByTestId("growth-chart") },
  ];
  for (const width of WIDTHS) {
    for (const check of pages) {
      await checkPage(page, { ...check, signedIn: true }, width, testInfo);
      await page.screenshot({ path: shotPath(`${check.name}-${width.width}`, testInfo) });
    }
  }
});

test("on a phone a long environment name shrinks the switcher, the header still one row", async ({
  page,
}, testInfo) => {
  const environment = "quality-assurance-europe-west-replica";
  const phone = WIDTHS[0];
  const path = `/changes?environment=${environment}`;
  const ready = () => page.getByRole("heading", { level: 1, name: "Changes" });
  await checkPage(page, { name: "header-long-environment", path, ready, signedIn: true }, phone, testInfo);
  await expect(page.getByLabel("Environment")).toHaveValue(environment);
  await page.screenshot({ path: shotPath("header-long-environment-390", testInfo) });
});

test("on a phone the Menu button opens the links from the keyboard and closes on Escape or a link", async ({
  page,
}, testInfo) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto("/changes");
  const header = page.getByRole("navigation", { name: "Main" });
  const menu = header.getByRole("button", { name: "Menu" });
  const databases = header.getByRole("link", { name: "Databases" });
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(databases).toBeHidden();
  await expect(header.getByLabel("Environment")).toBeVisible();

  // Tab from the brand: the switcher, then the Menu button.
  await header.getByRole("link", { name: "Retrace" }).focus();
  await page.keyboard.press("Tab");
  await expect(header.getByLabel("Environment")).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(menu).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  for (const name of ["Changes", "Databases", "Storage", "Users", "Tokens", "Retention", "Activity"]) {
    await expect(header.getByRole("link", { name, exact: true })).toBeInViewport();
  }
  await expect(header.getByRole("button", { name: "Sign out" })).toBeInViewport();
  await expect(header.getByText("admin@example.com")).toBeVisible();
  await page.screenshot({ path: shotPath("header-menu-open-390", testInfo) });

  await page.keyboard.press("Escape");
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(menu).toBeFocused();
  await expect(databases).toBeHidden();

  // Open again; the first link after the button is Changes, then Databases: follow it with Enter.
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  await expect(databases).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(/\/databases$/);
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(databases).toBeHidden();
});

test("on a laptop the links and Sign out are in the row, with no Menu button", async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto("/changes");
  const header = page.getByRole("navigation", { name: "Main" });
  await expect(header.getByRole("button", { name: "Menu" })).toBeHidden();
  for (const name of ["Changes", "Databases", "Storage", "Users", "Activity"]) {
    await expect(header.getByRole("link", { name, exact: true })).toBeVisible();
  }
  await expect(header.getByRole("button", { name: "Sign out" })).toBeVisible();
  await expect(header.getByLabel("Environment")).toBeVisible();
});
