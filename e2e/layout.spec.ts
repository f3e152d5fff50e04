import { expect, test, type APIRequestContext, type Locator } from "@playwright/test";
import pg from "pg";
import { checkPage, WIDTHS } from "./support/layout";
import { signIn } from "./support/sign-in";

/**
 * Every page at a phone's width (390 px) and a laptop's (1280 px): nothing scrolls sideways, Sign out stays on
 * screen, no 404 and no console error, and a long value in a diff reads as text. Runs last (playwright.config.ts),
 * on what the journey left (its admin, the "shop" database tracking public.items); it adds one change, an update
 * with a long name, which first-paint would otherwise see at the top of the list. /setup, which only a brand-new
 * instance shows, is checked in journey.spec.ts.
 */

/** Words a reader reads whole, then a digest no line of a phone can hold. */
const LONG_NAME =
  "Solid oak desk lamp with a linen shade, a brushed brass stem and a weighted base; ships flat-packed with " +
  "a two-metre braided cable and an inline dimmer switch. Batch " +
  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

test.beforeAll(async () => {
  const source = new pg.Client({
    host: "localhost",
    port: Number(process.env.E2E_SOURCE_PORT),
    database: "shop",
    user: "postgres",
    password: process.env.E2E_SOURCE_PASSWORD,
  });
  await source.connect();
  try {
    // beforeAll runs again in the new worker that follows a failed test: update once, so there is one such change.
    await source.query("update public.items set name = $1 where sku = 'BULK-7' and name <> $1", [LONG_NAME]);
  } finally {
    await source.end();
  }
});

/** The id of the newest change matching `query` (GET /api/changes), once the worker has captured one. */
async function changeId(request: APIRequestContext, query: string): Promise<string> {
  let id: string | undefined;
  await expect
    .poll(
      async () => {
        const body = (await (await request.get(`/api/changes?${query}`)).json()) as { changes: { id: string }[] };
        id = body.changes[0]?.id;
        return id;
      },
      { timeout: 30_000 },
    )
    .toBeDefined();
  return id ?? "";
}

async function shopId(request: APIRequestContext): Promise<string> {
  const { databases } = (await (await request.get("/api/databases")).json()) as {
    databases: { id: string; name: string }[];
  };
  const id = databases.find((d) => d.name === "shop")?.id;
  expect(id).toBeDefined();
  return id ?? "";
}

test("the sign-in page fits a phone and a laptop", async ({ page }, testInfo) => {
  const ready = () => page.getByRole("heading", { name: "Sign in to Retrace" });
  for (const width of WIDTHS)
    await checkPage(page, { name: "login", path: "/login", ready, signedIn: false }, width, testInfo);
});

test.describe("signed in", () => {
  test.beforeEach(async ({ page }) => {
    await signIn(page.request);
  });

  test("the changes list fits a phone and a laptop", async ({ page }, testInfo) => {
    const ready = () => page.getByTestId("change-row").first();
    for (const width of WIDTHS) {
      await checkPage(page, { name: "changes", path: "/changes", ready, signedIn: true }, width, testInfo);
    }
  });

  test("a change with a long value reads as text on a phone and a laptop", async ({ page }, testInfo) => {
    const change = await changeId(page.request, "operation=UPDATE&primaryKey=BULK-7");
    const diff = page.getByTestId("diff");
    for (const width of WIDTHS) {
      await checkPage(
        page,
        { name: "change", path: `/changes/${change}`, ready: () => diff, signedIn: true },
        width,
        testInfo,
      );
      await expectReadable(diff.getByText("Solid oak desk lamp"), width.width);
    }
  });

  test("a change of a large transaction fits a phone and a laptop", async ({ page }, testInfo) => {
    // The bulk insert: 60 changes in one transaction, listed under the diff.
    const change = await changeId(page.request, "operation=CREATE&primaryKey=BULK-30");
    const ready = () => page.getByRole("link", { name: /BULK-31/ });
    for (const width of WIDTHS) {
      await checkPage(
        page,
        { name: "change-transaction", path: `/changes/${change}`, ready, signedIn: true },
        width,
        testInfo,
      );
    }
  });

  test("a row's history fits a phone and a laptop", async ({ page }, testInfo) => {
    // BULK-7: created by the journey's bulk insert, then given the long name above.
    await changeId(page.request, "operation=UPDATE&primaryKey=BULK-7");
    const path = `/records?${new URLSearchParams({ database: "shop", table: "public.items", primaryKey: "BULK-7" })}`;
    const ready = () => page.getByTestId("history-step").first();
    for (const width of WIDTHS) {
      await checkPage(page, { name: "record-history", path, ready, signedIn: true }, width, testInfo);
      await expect(page.getByTestId("history-step")).toHaveCount(2);
      await expectReadable(page.getByTestId("diff").first().getByText("Solid oak desk lamp"), width.width);
    }
  });

  test("the databases list fits a phone and a laptop", async ({ page }, testInfo) => {
    const ready = () => page.getByRole("link", { name: "shop", exact: true });
    for (const width of WIDTHS) {
      await checkPage(page, { name: "databases", path: "/databases", ready, signedIn: true }, width, testInfo);
    }
  });

  test("the connect form fits a phone and a laptop", async ({ page }, testInfo) => {
    const ready = () => page.getByRole("heading", { name: "Checks" });
    for (const width of WIDTHS) {
      await checkPage(page, { name: "databases-new", path: "/databases/new", ready, signedIn: true }, width, testInfo);
    }
  });

  test("a database and its tables fit a phone and a laptop", async ({ page }, testInfo) => {
    const database = await shopId(page.request);
    const heading = () => page.getByRole("heading", { level: 1, name: /shop/ });
    const table = () => page.getByLabel("public.items");
    for (const width of WIDTHS) {
      await checkPage(
        page,
        { name: "database", path: `/databases/${database}`, ready: heading, signedIn: true },
        width,
        testInfo,
      );
      await checkPage(
        page,
        { name: "database-tables", path: `/databases/${database}/tables`, ready: table, signedIn: true },
        width,
        testInfo,
      );
    }
  });
});

/**
 * A long value reads as text: its lines are at least 200 px wide (some 28 characters of the monospace font, not
 * one per line), no word short enough for a line is cut across two, and it ends inside the diff's box (nothing
 * hidden behind a sideways scroll).
 */
async function expectReadable(value: Locator, viewportWidth: number) {
  const layout = await value.evaluate((element) => {
    const text = element.firstChild;
    // The diff's box: the table, or the frame around it when that is narrower (the table scrolls inside it).
    const diff = element.closest("[data-testid=diff]");
    const frames = [diff, diff?.parentElement].flatMap((e) => (e ? [e.getBoundingClientRect().right] : []));
    const splitWords: string[] = [];
    if (text instanceof Text) {
      for (const match of (text.textContent ?? "").matchAll(/\S+/g)) {
        if (match[0].length > 24) continue;
        const range = document.createRange();
        range.setStart(text, match.index);
        range.setEnd(text, match.index + match[0].length);
        if (range.getClientRects().length > 1) splitWords.push(match[0]);
      }
    }
    const rect = element.getBoundingClientRect();
    return { width: rect.width, right: rect.right, boxRight: Math.min(...frames), splitWords };
  });
  expect.soft(layout.width, `the long value's lines at ${viewportWidth}px`).toBeGreaterThanOrEqual(200);
  expect.soft(layout.splitWords, `words cut across lines at ${viewportWidth}px`).toEqual([]);
  expect
    .soft(layout.right, `the long value ends inside the diff at ${viewportWidth}px`)
    .toBeLessThanOrEqual(layout.boxRight + 0.5);
}
