import { mkdir } from "node:fs/promises";
import path from "node:path";
import { expect, test, type APIRequestContext } from "@playwright/test";
import { signIn } from "./support/sign-in";

/**
 * Changes name their database as the user named it in Retrace: the journey's "shop" is renamed "Shop (demo)" for
 * this spec, and the change list, a change's page and a row's history say "Shop (demo)", with "shop" (the
 * database's name on its server) as a title in the list and as quieter text beside it on the other two. The name
 * is put back at the end, for the specs after this one. Screenshots go to SCREENS_DIR (default: the test's output
 * directory).
 */

const DISPLAY = "Shop (demo)";
const SCREENS_DIR = process.env.SCREENS_DIR;

async function shopId(request: APIRequestContext): Promise<string> {
  const { databases } = (await (await request.get("/api/databases")).json()) as {
    databases: { id: string; database: string }[];
  };
  const id = databases.find((d) => d.database === "shop")?.id;
  expect(id).toBeDefined();
  return id ?? "";
}

async function rename(request: APIRequestContext, id: string, name: string) {
  const response = await request.patch(`/api/databases/${id}`, { data: { name } });
  expect(response.status()).toBe(200);
}

test("the list, a change and a row's history name the database as the user named it", async ({ page }, testInfo) => {
  await signIn(page.request);
  const id = await shopId(page.request);
  await rename(page.request, id, DISPLAY);
  try {
    const shot = async (name: string) => {
      if (SCREENS_DIR) await mkdir(SCREENS_DIR, { recursive: true });
      const file = `${name}.png`;
      await page.screenshot({ path: SCREENS_DIR ? path.join(SCREENS_DIR, file) : testInfo.outputPath(file) });
    };
    const api = (await (await page.request.get("/api/changes?database=shop&table=items&limit=1")).json()) as {
      changes: { id: string; database: string; sourceName: string; primaryKey: string }[];
    };
    const change = api.changes[0];
    expect(change).toMatchObject({ database: "shop", sourceName: DISPLAY });

    await page.goto("/changes?database=shop");
    const row = page.getByTestId("change-row").first();
    const name = row.getByText(DISPLAY, { exact: true });
    await expect(name).toBeVisible();
    await expect(name).toHaveAttribute("title", "Database shop");
    await shot("database-name-list-1280");

    await page.goto(`/changes/${change?.id ?? ""}`);
    const facts = page.locator("dd").filter({ hasText: DISPLAY });
    await expect(facts).toHaveText(`${DISPLAY} shop`);
    await shot("database-name-change-1280");

    await page.setViewportSize({ width: 390, height: 844 });
    const key = { database: "shop", table: "public.items", primaryKey: change?.primaryKey ?? "" };
    await page.goto(`/records?${new URLSearchParams(key)}`);
    await expect(page.getByTestId("history-database")).toHaveText(`Database ${DISPLAY} shop`);
    await shot("database-name-history-390");
  } finally {
    await rename(page.request, id, "shop");
  }
});
