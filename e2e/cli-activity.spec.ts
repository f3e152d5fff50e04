import { spawnSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { signIn } from "./support/sign-in";

/**
 * What the command line changes shows on the Activity page like the web's changes: `retrace token create` and
 * `token revoke`, run against the instance under test (the CLI attaches to the embedded store `retrace start`
 * holds), are listed as done by the OS user "(command line)". Screenshots go to SCREENS_DIR (default: the test's
 * output directory).
 */

function retrace(args: string[]) {
  const result = spawnSync(process.execPath, ["bin/retrace.mjs", ...args], {
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
  expect(result.status, result.stderr).toBe(0);
}

test("the command line's token create and revoke are on the Activity page", async ({ page }, testInfo) => {
  retrace(["token", "create", "--name", "cli-e2e", "--role", "viewer"]);
  retrace(["token", "revoke", "cli-e2e"]);
  await signIn(page.request);
  const osUser = os.userInfo().username;
  await page.goto(`/activity?actor=${encodeURIComponent(osUser)}`);
  const events = page.getByRole("listitem").filter({ hasText: "cli-e2e" });
  await expect(events).toHaveCount(2);
  await expect(events.first()).toContainText(`${osUser} (command line) revoked an API token cli-e2e`);
  await expect(events.last()).toContainText(`${osUser} (command line) created an API token cli-e2e`);
  await expect(events.last()).toContainText("role: viewer");
  const dir = process.env.SCREENS_DIR;
  if (dir) await mkdir(dir, { recursive: true });
  await page.screenshot({
    path: dir ? path.join(dir, "activity-cli-1280.png") : testInfo.outputPath("activity-cli-1280.png"),
  });
});
