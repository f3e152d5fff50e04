import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { startTestServer, type TestServer } from "../test/support/postgres";
import { connectDatabase } from "./support/connect";
import { signIn } from "./support/sign-in";

/**
 * A database deleted with its changes comes back from its archive: connected (its own source server), changed,
 * archived with `retrace archive export`, removed deleting its changes, then `retrace archive import` recreates it,
 * removed, with its changes. The Databases page lists it with the removed ones, its page says where it was is not
 * known and its trail verifies, and its changes are browsed under its name. Its changes are deleted at the end, so
 * the specs after this one see what the journey left. Screenshots go to SCREENS_DIR (default: the test's output
 * directory).
 */

let source: TestServer;
let work: string;

function retrace(args: string[]) {
  return spawnSync(process.execPath, ["bin/retrace.mjs", ...args], {
    env: {
      ...process.env,
      DATABASE_URL: undefined,
      RETRACE_DATA_DIR: ".test-data/e2e-store",
      RETRACE_STORE_PORT: process.env.E2E_STORE_PORT ?? "54431",
      LOG_LEVEL: "warn",
    },
    encoding: "utf8",
    timeout: 90_000,
  });
}

test.beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "retrace-e2e-orphan-"));
  source = await startTestServer();
  await source.createDatabase("vault");
  await source.query("create table public.entries (id int primary key, memo text)", [], "vault");
});

test.afterAll(async () => {
  await source?.stop();
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

async function stored(page: Page): Promise<{ id: string; sourceName: string | null; environment: string }[]> {
  const response = await page.request.get("/api/changes?database=vault&limit=500");
  expect(response.status()).toBe(200);
  return ((await response.json()) as { changes: { id: string; sourceName: string | null; environment: string }[] })
    .changes;
}

async function shoot(page: Page, name: string, testInfo: { outputPath(name: string): string }) {
  const dir = process.env.SCREENS_DIR;
  if (dir) await mkdir(dir, { recursive: true });
  await page.screenshot({
    path: dir ? path.join(dir, `${name}.png`) : testInfo.outputPath(`${name}.png`),
    fullPage: true,
  });
}

async function bothWidths(page: Page, name: string, testInfo: { outputPath(name: string): string }) {
  await shoot(page, `${name}-1280`, testInfo);
  await page.setViewportSize({ width: 390, height: 844 });
  await shoot(page, `${name}-390`, testInfo);
  await page.setViewportSize({ width: 1280, height: 800 });
}

test("a database deleted with its changes comes back from its archive, removed", async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  await signIn(page.request);
  const id = await connectDatabase(page.request, source, "vault", ["public.entries"], "staging");
  const from = new Date(Date.now() - 60_000);
  await source.query("insert into entries select g, 'memo ' || g from generate_series(1, 5) g", [], "vault");
  await expect.poll(async () => (await stored(page)).length, { timeout: 60_000 }).toBe(5);
  const to = new Date(Date.now() + 1_000);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  // Sealed within a second or so; an export refuses changes not sealed yet.
  const dir = path.join(work, "vault");
  await expect
    .poll(
      () =>
        retrace([
          "archive",
          "export",
          "--database",
          id,
          "--from",
          from.toISOString(),
          "--to",
          to.toISOString(),
          "--dir",
          dir,
        ]).status,
      { timeout: 60_000 },
    )
    .toBe(0);

  const deleted = await page.request.delete(`/api/databases/${id}?changes=delete`);
  expect(deleted.status(), await deleted.text()).toBe(200);
  expect(await stored(page)).toHaveLength(0);

  const imported = retrace(["archive", "import", dir]);
  expect(imported.status, imported.stderr).toBe(0);
  expect(imported.stdout).toContain("5 of 5 changes stored");
  expect(imported.stdout).toContain(`Database vault (${id}) was not in this store: recreated`);
  const changes = await stored(page);
  expect(changes).toHaveLength(5);
  expect(new Set(changes.map((c) => `${c.sourceName}/${c.environment}`))).toEqual(new Set(["vault/staging"]));

  await page.goto("/databases");
  await expect(page.getByRole("link", { name: "vault", exact: true })).toHaveCount(0);
  await page.getByLabel(/Show removed/).check();
  const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: "vault", exact: true }) });
  await expect(row).toContainText("Removed");
  await expect(row).not.toContainText(":0");
  await bothWidths(page, "archive-orphan-databases", testInfo);

  await row.getByRole("link", { name: "vault", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Removed", exact: true })).toBeVisible();
  await expect(page.getByText("Not known (recreated from an archive)")).toBeVisible();
  // The import sealed what it brought: the trail verifies from the import on.
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByTestId("verify-result")).toContainText("The trail verifies: 5 changes as sealed");
  await bothWidths(page, "archive-orphan-database", testInfo);

  await page.goto("/changes?database=vault");
  await expect(page.getByTestId("change-row")).toHaveCount(5);
  await bothWidths(page, "archive-orphan-changes", testInfo);

  // Leave what the journey left: the recreated database and its changes go.
  const purged = await page.request.delete(`/api/databases/${id}?changes=delete`);
  expect(purged.status()).toBe(200);
  expect(await stored(page)).toHaveLength(0);
});
