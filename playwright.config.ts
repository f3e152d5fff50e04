import { defineConfig } from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3100);

/**
 * The e2e suite drives Debian's Chromium through the real product: `retrace start` with a
 * fresh embedded store (web + worker), and a second real PostgreSQL server as the source
 * (started in e2e/global-setup.ts).
 */
export default defineConfig({
  testDir: "e2e",
  timeout: 120_000,
  expect: { timeout: 20_000 },
  workers: 1,
  retries: 0,
  reporter: process.env.CI ? [["list"]] : [["list"], ["html", { open: "never" }]],
  globalSetup: "./e2e/global-setup.ts",
  // The journey starts from a brand-new instance; what it leaves behind (an admin, a database, changes) is what
  // the later specs look at. First-paint expects exactly what the journey left; every other spec (the layout
  // checks add a change) runs after it, in a catch-all project, so a new spec needs no entry here.
  projects: [
    { name: "journey", testMatch: "journey.spec.ts" },
    { name: "first-paint", testMatch: "first-paint.spec.ts", dependencies: ["journey"] },
    {
      name: "after-first-paint",
      testIgnore: ["journey.spec.ts", "first-paint.spec.ts"],
      dependencies: ["first-paint"],
    },
  ],
  use: {
    baseURL: `http://localhost:${port}`,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: "rm -rf .test-data/e2e-store && node bin/retrace.mjs start",
    url: `http://localhost:${port}/login`,
    timeout: 420_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 20_000 },
    env: {
      PORT: String(port),
      RETRACE_DATA_DIR: ".test-data/e2e-store",
      RETRACE_STORE_PORT: process.env.E2E_STORE_PORT ?? "54431",
      LOG_LEVEL: "warn",
    },
  },
});
