import { expect, test, type Page } from "@playwright/test";
import { signIn } from "./support/sign-in";

/**
 * Holds as an admin places one on the Retention page: the journey's database held for January 2026 (local time),
 * listed with its reason and who placed it, read by a viewer who cannot release it, then released by the admin
 * (confirmed) and gone from the list; both audited. Screenshots at 1280 and 390 px go to SCREENS_DIR.
 */

const REASON = `Legal hold: case ${Date.now()}`;
const VIEWER = { email: `holds.viewer.${Date.now()}@example.com`, password: "holds viewer password" };
const SCREENS = process.env.SCREENS_DIR;

async function screens(page: Page, name: string) {
  if (!SCREENS) return;
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    await page.screenshot({ path: `${SCREENS}/${name}-${width}.png`, fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 720 });
}

test("an admin places a hold, a viewer reads it, the admin releases it", async ({ page, browser, baseURL }) => {
  await signIn(page.request);
  const { databases } = (await (await page.request.get("/api/databases")).json()) as {
    databases: { id: string; name: string; removedAt: string | null }[];
  };
  const database = databases.find((d) => d.removedAt === null);
  if (!database) throw new Error("the journey left no database");

  await page.goto("/settings/retention");
  const holds = page.getByRole("region", { name: "Holds" });
  await expect(holds.getByText("No active holds")).toBeVisible();
  const form = holds.getByRole("form", { name: "Place a hold" });
  // Nothing is sent before the form is whole.
  await form.getByRole("button", { name: "Place hold" }).click();
  await expect(form.getByRole("alert")).toHaveText("Choose the database to hold.");
  await form.getByLabel("Database").selectOption(database.id);
  await form.getByLabel("From").fill("2026-02-01T00:00:00");
  await form.getByLabel("To").fill("2026-01-01T00:00:00");
  await form.getByLabel("Reason").fill(REASON);
  await form.getByRole("button", { name: "Place hold" }).click();
  await expect(form.getByRole("alert")).toHaveText("“To” must be after “From”.");
  await form.getByLabel("From").fill("2026-01-01T00:00:00");
  await form.getByLabel("To").fill("2026-02-01T00:00:00");
  await form.getByRole("button", { name: "Place hold" }).click();
  await expect(form.getByRole("status")).toHaveText(`Hold placed on ${database.name}.`);

  const table = holds.getByRole("table", { name: "Active holds" });
  const row = table.getByRole("row").filter({ hasText: REASON });
  await expect(row).toBeVisible();
  await expect(row).toContainText(database.name);
  await expect(row).toContainText("admin@example.com");
  // The span in local time, as it was typed.
  const local = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
  const from = await page.evaluate(() => new Date("2026-01-01T00:00:00").toISOString());
  await expect(row).toContainText(local.format(new Date(from)));
  const { holds: listed } = (await (await page.request.get("/api/holds")).json()) as {
    holds: { id: string; from: string; reason: string }[];
  };
  expect(listed.find((h) => h.reason === REASON)?.from).toBe(from);
  await screens(page, "holds-admin");

  // A viewer reads the list, with nothing to place or release holds with.
  expect((await page.request.post("/api/users", { data: { ...VIEWER, role: "viewer" } })).status()).toBe(201);
  const context = await browser.newContext({ baseURL });
  try {
    const viewer = await context.newPage();
    await viewer.goto("/login");
    await viewer.getByLabel("Email").fill(VIEWER.email);
    await viewer.getByLabel("Password").fill(VIEWER.password);
    await viewer.getByRole("button", { name: "Sign in" }).click();
    await expect(viewer).toHaveURL(/\/changes$/);
    await viewer.goto("/settings/retention");
    const region = viewer.getByRole("region", { name: "Holds" });
    await expect(region.getByRole("row").filter({ hasText: REASON })).toBeVisible();
    await expect(region.getByText("Only admins can place or release holds.")).toBeVisible();
    await expect(region.getByRole("button", { name: /Release/ })).toHaveCount(0);
    await expect(region.getByRole("form", { name: "Place a hold" })).toHaveCount(0);
    await screens(viewer, "holds-viewer");
  } finally {
    await context.close();
  }

  // Release asks first; Cancel keeps it.
  await row.getByRole("button", { name: `Release the hold on ${database.name}: ${REASON}` }).click();
  await row.getByRole("button", { name: "Cancel" }).click();
  await expect(row).toBeVisible();
  await row.getByRole("button", { name: `Release the hold on ${database.name}: ${REASON}` }).click();
  await row.getByRole("button", { name: `Release the hold on ${database.name}`, exact: true }).click();
  await expect(table.getByRole("row").filter({ hasText: REASON })).toHaveCount(0);
  await expect(holds.getByText("No active holds")).toBeVisible();

  const audit = (await (await page.request.get("/api/audit?action=hold")).json()) as {
    events: { action: string; details: { reason: string } }[];
  };
  expect(audit.events.filter((e) => e.details.reason === REASON).map((e) => e.action)).toEqual([
    "hold.release",
    "hold.create",
  ]);
});
