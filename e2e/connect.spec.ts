import fs from "node:fs";
import path from "node:path";
import { expect, test, type Locator, type Page } from "@playwright/test";
import pg from "pg";
import { signIn } from "./support/sign-in";

/**
 * The connect form as a new user meets it: a pasted connection string fills it, a failing check shows its fix
 * (prose as prose, SQL in a box whose Copy button covers none of it), Add Database lists every failing check, and
 * the read-only role path: copy the SQL, run it at the source, Verify, connect.
 */

const SHOTS = process.env.E2E_SHOTS_DIR ?? path.join("test-results", "connect-shots");
const PORT = Number(process.env.E2E_SOURCE_PORT);
const PASSWORD = String(process.env.E2E_SOURCE_PASSWORD);

function sourceClient(database = "postgres") {
  return new pg.Client({ host: "localhost", port: PORT, database, user: "postgres", password: PASSWORD });
}

async function onSource(sql: string, database = "postgres"): Promise<void> {
  const client = sourceClient(database);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function shoot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: 900 });
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    expect.soft(scrollWidth, `${name} at ${width}px fits the window`).toBeLessThanOrEqual(clientWidth);
    await page.screenshot({ path: path.join(SHOTS, `${name}-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** The Copy button of a code box covers no part of its code. */
async function expectCopyClear(box: Locator): Promise<void> {
  const button = await box.getByRole("button", { name: /^(Copy|Copied)$/ }).boundingBox();
  const code = await box.locator("pre").boundingBox();
  if (!button || !code) throw new Error("code box not laid out");
  const overlaps =
    button.x < code.x + code.width &&
    code.x < button.x + button.width &&
    button.y < code.y + code.height &&
    code.y < button.y + button.height;
  expect(overlaps, "the Copy button overlaps the code").toBe(false);
}

test.use({ permissions: ["clipboard-read", "clipboard-write"] });

test.beforeAll(async () => {
  await onSource(`
    drop role if exists e2e_norepl;
    create role e2e_norepl with login password 'e2e-norepl-pass';
  `);
  await onSource("drop database if exists roleshop with (force)");
  await onSource("drop database if exists noreplshop with (force)");
  await onSource("drop role if exists retrace");
  await onSource("create database roleshop");
  // Not the journey's shop: connecting a database twice is refused before any check runs.
  await onSource("create database noreplshop");
  await onSource("create table public.orders (id int primary key, total numeric)", "roleshop");
  await onSource("create table public.audit_secrets (id int primary key)", "roleshop");
});

test.beforeEach(async ({ page }) => {
  await signIn(page.request);
  await page.goto("/databases/new");
  await expect(page.getByRole("heading", { name: "Connect PostgreSQL Database" })).toBeVisible();
});

test("a pasted connection string fills every field, in both forms", async ({ page }) => {
  const box = page.getByLabel("Connection string");
  await box.fill(
    "postgresql://app%40corp:s3cr%23t@db.abc123.eu-west-1.rds.amazonaws.com:6543/shop" +
      "?sslmode=verify-full&sslrootcert=%2Fcerts%2Fglobal-bundle.pem",
  );
  await expect(page.getByLabel("Host", { exact: true })).toHaveValue("db.abc123.eu-west-1.rds.amazonaws.com");
  await expect(page.getByLabel("Port")).toHaveValue("6543");
  await expect(page.getByLabel("Database Name")).toHaveValue("shop");
  await expect(page.getByLabel("Username")).toHaveValue("app@corp");
  await expect(page.getByLabel("Password", { exact: true })).toHaveValue("s3cr#t");
  await expect(page.getByLabel("SSL mode")).toHaveValue("verify-full");
  // The password does not stay in the string box; the CA file it names is asked for.
  await expect(box).toHaveValue("");
  await expect(page.getByRole("status").filter({ hasText: "Filled the fields" })).toContainText(
    "/certs/global-bundle.pem",
  );
  await expect(page.getByLabel("CA certificate")).toBeVisible();
  await expect(page.getByText("Detected from the host name: Amazon RDS / Aurora.")).toBeVisible();
  await expect(page.getByText(/the server must show a certificate signed by a CA you trust/)).toBeVisible();
  await shoot(page, "connect-filled");

  await box.fill("host=localhost port=5433 dbname=billing user=reader password='it\\'s' sslmode=require");
  await expect(page.getByLabel("Host", { exact: true })).toHaveValue("localhost");
  await expect(page.getByLabel("Port")).toHaveValue("5433");
  await expect(page.getByLabel("Database Name")).toHaveValue("billing");
  await expect(page.getByLabel("Username")).toHaveValue("reader");
  await expect(page.getByLabel("Password", { exact: true })).toHaveValue("it's");
  await expect(page.getByLabel("SSL mode")).toHaveValue("require");
  await expect(page.getByText(/any certificate is accepted/)).toBeVisible();
});

test("a failing check shows its fix, and Add Database lists every failing check", async ({ page }) => {
  await page.getByLabel("Host", { exact: true }).fill("localhost");
  await page.getByLabel("Port").fill(String(PORT));
  await page.getByLabel("Database Name").fill("noreplshop");
  await page.getByLabel("Username").fill("e2e_norepl");
  await page.getByLabel("Password", { exact: true }).fill("e2e-norepl-pass");
  await page.getByLabel("Display name").fill("Shop without replication");

  await page.getByRole("button", { name: "Check connection" }).click();
  const checks = page.getByRole("list", { name: "Connection checks" });
  const replication = checks.getByRole("listitem").filter({ hasText: "REPLICATION privilege" });
  await expect(replication).toContainText("lacks the REPLICATION privilege");
  // Prose as prose, the SQL in its own box.
  await expect(replication.getByText("Run as a superuser:")).toBeVisible();
  await expect(replication.locator("pre")).toHaveText('ALTER ROLE "e2e_norepl" WITH REPLICATION;');
  await expect(checks.getByRole("listitem").filter({ hasText: "Authentication" })).toContainText(
    "Signed in as e2e_norepl",
  );

  // Add Database reports both failures at once (REPLICATION, and CREATE on the database for the publication).
  await page.getByRole("button", { name: "Add Database" }).click();
  await expect(page.getByRole("main").getByRole("alert")).toContainText("1 more failed");
  await expect(page.getByRole("status").filter({ hasText: "2 checks failed." })).toBeVisible();
  const publication = checks.getByRole("listitem").filter({ hasText: "Can create a publication" });
  await expect(publication.locator("pre")).toHaveText('GRANT CREATE ON DATABASE "noreplshop" TO "e2e_norepl";');

  await page.setViewportSize({ width: 390, height: 844 });
  await expectCopyClear(
    replication
      .locator("div.rounded-md")
      .filter({ has: page.locator("pre") })
      .first(),
  );
  await shoot(page, "connect-failing-checks");
});

test("the read-only role path: copy the SQL, run it, Verify, connect", async ({ page }) => {
  await page.getByLabel("Read-only role").check();
  await page.getByLabel("Host", { exact: true }).fill("localhost");
  await page.getByLabel("Port").fill(String(PORT));
  await page.getByLabel("Database Name").fill("roleshop");
  await page.getByLabel("Tables to read").fill("public.orders");
  const role = page.getByRole("region", { name: "A read-only role for Retrace" });
  const sql = role.locator("pre");
  await expect(sql).toContainText('GRANT SELECT ON "public"."orders" TO retrace;');
  await expect(sql).toContainText('GRANT CONNECT, CREATE ON DATABASE "roleshop" TO retrace;');
  await expect(sql).not.toContainText("audit_secrets");

  // Before the SQL is run: Verify says what is missing.
  await page.getByLabel("Username").fill("retrace");
  await page.getByLabel("Password", { exact: true }).fill("e2e-retrace-pass");
  await role.getByRole("button", { name: "Verify" }).click();
  const checks = page.getByRole("list", { name: "Connection checks" });
  await expect(checks.getByRole("listitem").filter({ hasText: "Authentication" })).toContainText(
    'Authentication failed for user "retrace"',
  );
  await shoot(page, "connect-role-path");

  await role.getByRole("button", { name: "Copy" }).click();
  await expect(role.getByRole("button", { name: "Copied" })).toBeVisible();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied.trim()).toBe((await sql.innerText()).trim());
  await onSource(copied.replace("choose-a-strong-password", "e2e-retrace-pass"), "roleshop");

  await role.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByRole("status").filter({ hasText: "All checks passed." })).toBeVisible();
  await expect(checks.getByRole("listitem").filter({ hasText: "SELECT on the chosen tables" })).toContainText(
    "retrace may read the chosen table",
  );
  await shoot(page, "connect-role-verified");

  await page.getByRole("button", { name: "Add Database" }).click();
  await expect(page).toHaveURL(/\/databases\/[0-9a-f-]+\/tables$/);
  const id = /\/databases\/([0-9a-f-]+)\/tables$/.exec(page.url())?.[1] ?? "";
  // Leave the instance as the other specs expect it: only the journey's database.
  const removed = await page.request.delete(`/api/databases/${id}`);
  expect(removed.status(), await removed.text()).toBe(200);
});

test.afterAll(async () => {
  await onSource("drop database if exists roleshop with (force)").catch(() => undefined);
  await onSource("drop database if exists noreplshop with (force)").catch(() => undefined);
  await onSource("drop role if exists e2e_norepl").catch(() => undefined);
});
