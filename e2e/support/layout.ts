import { expect, type Locator, type Page, type TestInfo } from "@playwright/test";

/** A phone (an iPhone 14's CSS viewport) and a laptop: every page is checked at both. */
export const WIDTHS = [
  { name: "phone", width: 390, height: 844 },
  { name: "desktop", width: 1280, height: 800 },
] as const;

export type Width = (typeof WIDTHS)[number];

type PageCheck = {
  /** Names the screenshot: `<name>-<width>.png` in the test's output directory. */
  name: string;
  path: string;
  /** Visible once the page shows what it is for (its data, its form). */
  ready: (page: Page) => Locator;
  /** Signed-in pages have the header, whose Sign out must stay on screen. */
  signedIn: boolean;
};

/**
 * Where the page sticks out past the right edge of the window: the outermost element of each overflowing chain
 * (its parent fits), leaving out what scrolls inside a box of its own. For the failure message.
 */
async function overflowingElements(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const limit = document.documentElement.clientWidth + 0.5;
    const sticksOut = (element: Element) => {
      const rect = element.getBoundingClientRect();
      return rect.width > 0 && rect.right > limit;
    };
    const scrollsInside = (element: Element) => {
      for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
        if (getComputedStyle(box).overflowX !== "visible") return true;
      }
      return false;
    };
    return Array.from(document.body.querySelectorAll("*"))
      .filter((element) => sticksOut(element) && !scrollsInside(element))
      .filter((element) => !(element.parentElement && sticksOut(element.parentElement)))
      .map((element) => {
        const classes = typeof element.className === "string" ? element.className.slice(0, 80) : "";
        const right = Math.round(element.getBoundingClientRect().right);
        return `<${element.tagName.toLowerCase()} class="${classes}"> ends at ${right}px`;
      });
  });
}

/**
 * The header is one row at a phone's width (the brand, the environment switcher and the Menu button, whose menu
 * holds Sign out) and Sign out is on screen at every width, straight away or once the menu is open.
 */
async function expectHeaderFits(page: Page) {
  const header = page.getByRole("navigation", { name: "Main" });
  const menu = header.getByRole("button", { name: "Menu" });
  const signOut = header.getByRole("button", { name: "Sign out" });
  const middle = async (part: Locator) => {
    const box = await part.boundingBox();
    return box ? box.y + box.height / 2 : -100;
  };
  const expectOneRow = async (parts: Locator[], what: string) => {
    const middles = await Promise.all(parts.map(middle));
    expect.soft(Math.max(...middles) - Math.min(...middles), what).toBeLessThan(8);
  };
  const brand = header.getByRole("link", { name: "Retrace" });
  if (await menu.isVisible()) {
    await expectOneRow([brand, header.getByLabel("Environment"), menu], "brand, switcher and Menu share a row");
    await expect.soft(signOut).toBeHidden();
    await menu.click();
    await expect.soft(signOut).toBeInViewport({ ratio: 1 });
    await page.keyboard.press("Escape");
    await expect.soft(signOut).toBeHidden();
    await expect.soft(menu).toBeFocused();
  } else {
    await expect.soft(signOut).toBeInViewport({ ratio: 1 });
    await expectOneRow([brand, signOut], "Sign out is on the brand's row");
  }
}

/**
 * Loads a page at the current viewport and checks what a reader is owed at any width: no response of the load
 * is a 404 and nothing is logged as an error; the document is no wider than the window (nothing scrolls
 * sideways but inside its own box); the page has an icon that is an image; the header's Sign out is on
 * screen. Saves a full-page screenshot for a person to look at.
 */
export async function checkPage(page: Page, check: PageCheck, width: Width, testInfo: TestInfo) {
  const problems: string[] = [];
  const onResponse = (response: { status(): number; url(): string }) => {
    if (response.status() === 404) problems.push(`404 ${response.url()}`);
  };
  const onConsole = (message: { type(): string; text(): string }) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  };
  const onPageError = (error: Error) => problems.push(`page error: ${error.message}`);
  page.on("response", onResponse);
  page.on("console", onConsole);
  page.on("pageerror", onPageError);
  try {
    await page.setViewportSize({ width: width.width, height: width.height });
    await page.goto(check.path);
    await expect(check.ready(page)).toBeVisible();
    await page.waitForLoadState("networkidle");

    // Soft: one run reports every check that fails at every width, not just the first.
    const { scrollWidth, clientWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      clientWidth: document.documentElement.clientWidth,
    }));
    const sticking = scrollWidth > clientWidth ? (await overflowingElements(page)).join("; ") : "";
    expect
      .soft(scrollWidth, `${check.path} at ${width.width}px is wider than the window: ${sticking}`)
      .toBeLessThanOrEqual(clientWidth);

    const icons = await page
      .locator('head link[rel="icon"]')
      .evaluateAll((links) => links.map((link) => link.getAttribute("href") ?? ""));
    expect.soft(icons.length, `${check.path} names an icon`).toBeGreaterThan(0);
    for (const icon of icons) {
      const response = await page.request.get(icon);
      expect.soft(response.status(), `the icon ${icon}`).toBe(200);
      expect.soft(response.headers()["content-type"], `the icon ${icon}`).toMatch(/^image\//);
    }

    if (check.signedIn) await expectHeaderFits(page);

    await page.screenshot({ path: testInfo.outputPath(`${check.name}-${width.width}.png`), fullPage: true });
    expect.soft(problems, `${check.path} at ${width.width}px`).toEqual([]);
  } finally {
    page.off("response", onResponse);
    page.off("console", onConsole);
    page.off("pageerror", onPageError);
  }
}
