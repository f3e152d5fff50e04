import { mkdir } from "node:fs/promises";
import path from "node:path";
import { expect, test, type Page } from "@playwright/test";
import { startTestServer, type TestServer } from "../test/support/postgres";
import { checkPage, WIDTHS } from "./support/layout";
import { signIn } from "./support/sign-in";

/**
 * The life of a connected database in the browser: its credentials edited (the password field stays empty, a
 * wrong password is refused before anything is saved, the right one is saved and the worker streams with it),
 * paused and resumed (changes made while paused arrive once), and removed keeping its changes (confirmed by typing
 * its name; the slot and publication are gone at the source, the changes are still found under its name). Its own
 * source server, with a role that is not a superuser; the kept changes are deleted at the end, so the specs after
 * this one see what the journey left. Screenshots go to SCREENS_DIR (default: the test's output directory).
 */

const FIRST_PASSWORD = "ledger-first-Pa55";
const SECOND_PASSWORD = "ledger-second-Pa55";

let source: TestServer;

test.beforeAll(async () => {
  source = await startTestServer();
  await source.createDatabase("ledger");
  await source.query(`
    create role ledger_app with login replication password '${FIRST_PASSWORD}';
    grant create on database ledger to ledger_app;
  `);
  await source.query(
    `grant create on schema public to ledger_app;
     set role ledger_app;
     create table public.entries (id int primary key, memo text);
     create table public.scratch (n int);`,
    [],
    "ledger",
  );
});

test.afterAll(async () => {
  await source?.stop();
});

async function stored(page: Page): Promise<{ id: string; operation: string; primaryKey: string }[]> {
  const response = await page.request.get("/api/changes?database=ledger&limit=500");
  expect(response.status()).toBe(200);
  return ((await response.json()) as { changes: { id: string; operation: string; primaryKey: string }[] }).changes;
}

async function shoot(page: Page, name: string, testInfo: { outputPath(name: string): string }) {
  const dir = process.env.SCREENS_DIR;
  if (dir) await mkdir(dir, { recursive: true });
  await page.screenshot({
    path: dir ? path.join(dir, `${name}.png`) : testInfo.outputPath(`${name}.png`),
    fullPage: true,
  });
}

test("edit credentials, pause and resume, remove keeping the changes", async ({ page }, testInfo) => {
  test.setTimeout(300_000);
  await signIn(page.request);
  const connected = await page.request.post("/api/databases", {
    data: {
      name: "ledger",
      host: "localhost",
      port: source.port,
      database: "ledger",
      username: "ledger_app",
      password: FIRST_PASSWORD,
      environment: "test",
      tables: ["public.entries"],
    },
  });
  expect(connected.status(), await connected.text()).toBe(201);
  const { database } = (await connected.json()) as { database: { id: string } };

  await source.query("insert into public.entries values (1, 'opening balance')", [], "ledger");
  await expect.poll(async () => (await stored(page)).length, { timeout: 30_000 }).toBe(1);

  // Edit credentials: the password changes at the source; the field starts empty.
  await page.goto(`/databases/${database.id}`);
  await expect(page.getByRole("heading", { name: "Replication slot at the source" })).toBeVisible();
  await page.getByRole("button", { name: "Edit connection" }).click();
  const form = page.getByRole("form", { name: "Edit connection" });
  await expect(form.getByLabel("Password")).toHaveValue("");
  await expect(form.getByLabel("Username")).toHaveValue("ledger_app");
  await source.query(`alter role ledger_app password '${SECOND_PASSWORD}'`);
  await shoot(page, "edit-connection-1280", testInfo);
  await page.setViewportSize({ width: 390, height: 844 });
  await shoot(page, "edit-connection-390", testInfo);
  await page.setViewportSize({ width: 1280, height: 800 });

  await form.getByLabel("Password").fill("not-the-password");
  await form.getByRole("button", { name: "Check and save" }).click();
  await expect(form.getByRole("alert")).toContainText("Nothing was saved");
  await expect(form.getByRole("alert")).toContainText(/password/i);
  await expect(form.getByRole("alert")).not.toContainText("not-the-password");

  await form.getByLabel("Display name").fill("ledger books");
  await form.getByLabel("Password").fill(SECOND_PASSWORD);
  await form.getByRole("button", { name: "Check and save" }).click();
  await expect(form).toHaveCount(0);
  await expect(page.getByRole("heading", { level: 1 })).toContainText("ledger books");
  // The worker reconnects with the new password (the old one no longer opens a session).
  await source.query("insert into public.entries values (2, 'after the new password')", [], "ledger");
  await expect.poll(async () => (await stored(page)).length, { timeout: 60_000 }).toBe(2);

  // Pause: the slot keeps its place; what is written meanwhile waits there.
  await page.getByRole("button", { name: "Pause" }).click();
  await expect(page.getByRole("heading", { name: "Capture is paused" })).toBeVisible();
  await expect
    .poll(async () => (await source.query("select active from pg_replication_slots", [], "ledger")).rows[0]?.active, {
      timeout: 30_000,
    })
    .toBe(false);
  await source.query(
    "insert into public.entries select g, 'while paused ' || g from generate_series(3, 12) g; " +
      "update public.entries set memo = 'edited' where id = 1;",
    [],
    "ledger",
  );
  const panel = page.getByRole("status").filter({ has: page.getByRole("heading", { name: "Capture is paused" }) });
  await expect(panel).toContainText("holds back", { timeout: 30_000 });
  expect((await stored(page)).length).toBe(2);

  // With max_slot_wal_keep_size set, a slot past half of it is a warning: write and switch WAL segments (16 MB
  // each) on an untracked table while paused.
  await source.query("alter system set max_slot_wal_keep_size = '64MB'");
  await source.query("select pg_reload_conf()");
  for (let segment = 0; segment < 3; segment++) {
    await source.query(`insert into public.scratch values (${segment})`, [], "ledger");
    await source.query("select pg_switch_wal()");
  }
  const slotSection = page.getByRole("region", { name: "Replication slot at the source" });
  await expect(slotSection.getByRole("alert")).toContainText("over half of max_slot_wal_keep_size (64MB)", {
    timeout: 30_000,
  });
  for (const width of WIDTHS) {
    await checkPage(
      page,
      { name: "life-paused-database", path: `/databases/${database.id}`, ready: () => panel, signedIn: true },
      width,
      testInfo,
    );
    await shoot(page, `database-paused-${width.width}`, testInfo);
    await checkPage(
      page,
      {
        name: "life-paused-list",
        path: "/databases",
        ready: (p) => p.getByRole("link", { name: "ledger books", exact: true }),
        signedIn: true,
      },
      width,
      testInfo,
    );
    await shoot(page, `databases-paused-${width.width}`, testInfo);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto("/databases");
  const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: "ledger books", exact: true }) });
  await expect(row).toContainText("Paused");
  await expect(row).toContainText("holds back");
  await expect(row).toContainText("in 24 h");

  await expect(row).toContainText("Warning");
  await source.query("alter system reset max_slot_wal_keep_size");
  await source.query("select pg_reload_conf()");

  await page.goto(`/databases/${database.id}`);
  await page.getByRole("button", { name: "Resume" }).click();
  await expect(page.getByRole("heading", { name: "Capture is paused" })).toHaveCount(0, { timeout: 30_000 });
  await expect.poll(async () => (await stored(page)).length, { timeout: 60_000 }).toBe(13);
  // Exactly once: a little later there are still 13, each change once.
  await page.waitForTimeout(2_000);
  const changes = await stored(page);
  expect(changes).toHaveLength(13);
  expect(new Set(changes.map((c) => `${c.operation}:${c.primaryKey}`)).size).toBe(13);

  // Remove, keeping the changes: confirmed by typing the name.
  await page.getByRole("button", { name: "Remove" }).click();
  const dialog = page.getByRole("dialog", { name: "Remove ledger books?" });
  await expect(dialog.getByRole("radio", { name: /Keep them/ })).toBeChecked();
  const confirm = dialog.getByRole("button", { name: "Remove, keep changes" });
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel("Type ledger books to confirm").fill("ledger");
  await expect(confirm).toBeDisabled();
  await dialog.getByLabel("Type ledger books to confirm").fill("ledger books");
  await shoot(page, "remove-dialog-1280", testInfo);
  await confirm.click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("heading", { name: "Removed", exact: true })).toBeVisible();
  await shoot(page, "database-removed-1280", testInfo);
  await page.setViewportSize({ width: 390, height: 844 });
  await shoot(page, "database-removed-390", testInfo);
  await page.setViewportSize({ width: 1280, height: 800 });

  // Gone at the source: slot and publication.
  expect((await source.query("select slot_name from pg_replication_slots")).rows).toEqual([]);
  expect((await source.query("select pubname from pg_publication", [], "ledger")).rows).toEqual([]);
  // Kept in Retrace, under the database's name.
  expect(await stored(page)).toHaveLength(13);
  await page.getByRole("link", { name: "Browse its kept changes" }).click();
  await expect(page.getByTestId("change-row").first()).toBeVisible();
  await page.goto("/changes?database=ledger");
  await expect(page.getByTestId("change-row")).toHaveCount(13);

  // The list hides it until asked.
  await page.goto("/databases");
  await expect(page.getByRole("link", { name: "ledger books", exact: true })).toHaveCount(0);
  await page.getByLabel(/Show removed/).check();
  const removedRow = page
    .getByRole("row")
    .filter({ has: page.getByRole("link", { name: "ledger books", exact: true }) });
  await expect(removedRow).toContainText("Removed");
  await expect(removedRow.getByRole("button", { name: "Pause" })).toHaveCount(0);
  await shoot(page, "databases-removed-1280", testInfo);
  await page.setViewportSize({ width: 390, height: 844 });
  await shoot(page, "databases-removed-390", testInfo);
  await page.setViewportSize({ width: 1280, height: 800 });

  // Leave what the journey left: the kept changes go too.
  const purged = await page.request.delete(`/api/databases/${database.id}?changes=delete`);
  expect(purged.status()).toBe(200);
  expect(await stored(page)).toHaveLength(0);
});
