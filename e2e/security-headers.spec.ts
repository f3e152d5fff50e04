import { expect, test, type APIResponse } from "@playwright/test";
import { signIn } from "./support/sign-in";

const STATIC_POLICY = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'";
const EXPECTED = {
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

/** The page's script nonce: its policy lets scripts run with that nonce only, and every script of its HTML has it. */
async function expectNonceOnly(path: string, response: APIResponse) {
  const policy = response.headers()["content-security-policy"] ?? "";
  const nonce = /script-src 'self' 'nonce-([A-Za-z0-9+/=]+)' 'strict-dynamic'(;|,|$)/.exec(policy)?.[1];
  expect(nonce, `${path}: ${policy}`).toBeDefined();
  for (const directive of ["frame-ancestors 'none'", "object-src 'none'", "base-uri 'self'", "form-action 'self'"])
    expect(policy, path).toContain(directive);
  const scripts = [...(await response.text()).matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  expect(scripts.length, path).toBeGreaterThan(0);
  for (const script of scripts) expect(script, path).toContain(`nonce="${nonce}"`);
}

// Signed out (sign-in page, a refused API call, the icon) and signed in (a page, an API answer): every kind of
// response the app gives carries the same headers; pages a policy with their own script nonce.
test("every response carries the security headers, signed in or not", async ({ request }) => {
  const pages = ["/login", "/changes", "/databases"];
  const check = async (path: string) => {
    const response = await request.get(path, { maxRedirects: 0 });
    expect(response.status(), path).toBe(path === "/api/changes" ? 401 : 200);
    for (const [name, value] of Object.entries(EXPECTED))
      expect(response.headers()[name], `${path} ${name}`).toBe(value);
    if (pages.includes(path)) await expectNonceOnly(path, response);
    else expect(response.headers()["content-security-policy"], path).toBe(STATIC_POLICY);
  };
  for (const path of ["/login", "/api/changes", "/icon.svg"]) await check(path);
  await signIn(request);
  for (const path of ["/changes", "/databases", "/api/changes?limit=1"]) await check(path);
});

test("a script that reaches a page without the nonce does not run", async ({ page }) => {
  await signIn(page.request);
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  await page.goto("/changes");
  // The page's own scripts ran (it hydrated: the live tail's control answers); an injected handler does not.
  await expect(page.getByRole("button", { name: /Pause|Resume/ })).toBeVisible();
  await page.evaluate(() => {
    document.body.insertAdjacentHTML("beforeend", `<img src="/no-such-image.png" onerror="window.__ran = 1">`);
  });
  await expect.poll(() => violations.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as unknown as { __ran?: number }).__ran)).toBeUndefined();
});

// What a signed-in user reads (audit data, a new token's secret) is kept by no browser cache or proxy.
test("API answers and signed-in pages are not stored", async ({ request }) => {
  const refused = await request.get("/api/changes");
  expect(refused.status()).toBe(401);
  expect(refused.headers()["cache-control"]).toBe("no-store");
  await signIn(request);
  for (const path of ["/api/changes?limit=1", "/api/databases", "/api/auth/session"]) {
    const response = await request.get(path);
    expect(response.headers()["cache-control"], path).toBe("no-store");
  }
  for (const path of ["/changes", "/databases", "/activity"]) {
    const response = await request.get(path, { maxRedirects: 0 });
    expect(response.status(), path).toBe(200);
    expect(response.headers()["cache-control"], path).toContain("no-store");
  }
});

test("the app cannot be framed by another page", async ({ page, baseURL }) => {
  const blocked: string[] = [];
  page.on("console", (message) => {
    if (/frame-ancestors|X-Frame-Options|refused to display/i.test(message.text())) blocked.push(message.text());
  });
  await page.setContent(`<iframe id="app" src="${baseURL}/login" width="400" height="300"></iframe>`);
  await expect.poll(() => blocked.length).toBeGreaterThan(0);
  const frame = page.frames().find((f) => f.url().includes("/login"));
  expect(
    (await frame
      ?.locator("input")
      .count()
      .catch(() => 0)) ?? 0,
  ).toBe(0);
});
