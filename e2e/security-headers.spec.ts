import { expect, test } from "@playwright/test";
import { signIn } from "./support/sign-in";

const EXPECTED = {
  "content-security-policy": "frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
  "x-frame-options": "DENY",
  "x-content-type-options": "nosniff",
  "referrer-policy": "same-origin",
};

// Signed out (sign-in page, a refused API call, the icon) and signed in (a page, an API answer): every kind of
// response the app gives carries the same headers.
test("every response carries the security headers, signed in or not", async ({ request }) => {
  const signedOut = ["/login", "/api/changes", "/icon.svg"];
  for (const path of signedOut) {
    const response = await request.get(path, { maxRedirects: 0 });
    for (const [name, value] of Object.entries(EXPECTED))
      expect(response.headers()[name], `${path} ${name}`).toBe(value);
  }
  await signIn(request);
  for (const path of ["/changes", "/databases", "/api/changes?limit=1"]) {
    const response = await request.get(path, { maxRedirects: 0 });
    expect(response.status(), path).toBe(200);
    for (const [name, value] of Object.entries(EXPECTED))
      expect(response.headers()[name], `${path} ${name}`).toBe(value);
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
