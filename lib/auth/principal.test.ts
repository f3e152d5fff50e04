import { describe, expect, it } from "vitest";
import { isAdminPage } from "./pages";
import { requestAddress } from "./principal";

describe("requestAddress", () => {
  it("with no trusted proxy is the last X-Forwarded-For entry (the connection's, appended by the server)", () => {
    expect(requestAddress(new Headers({ "x-forwarded-for": "203.0.113.7, 10.0.0.1" }), 0)).toBe("10.0.0.1");
    expect(requestAddress({ "x-forwarded-for": " ::1 " }, 0)).toBe("::1");
  });
  it("with N trusted proxies is the entry N places from the right; what is left of it is ignored", () => {
    const forged = "1.1.1.1, 2.2.2.2, 203.0.113.7, 10.0.0.1";
    expect(requestAddress({ "x-forwarded-for": forged }, 1)).toBe("203.0.113.7");
    expect(requestAddress(new Headers({ "x-forwarded-for": forged }), 2)).toBe("2.2.2.2");
    expect(requestAddress({ "x-forwarded-for": "203.0.113.7, 10.0.0.2, 10.0.0.1" }, 2)).toBe("203.0.113.7");
  });
  it("is the leftmost entry when there are fewer than the proxies", () => {
    expect(requestAddress({ "x-forwarded-for": "10.0.0.1" }, 1)).toBe("10.0.0.1");
    expect(requestAddress({ "x-forwarded-for": "10.0.0.2, 10.0.0.1" }, 5)).toBe("10.0.0.2");
  });
  it("is null when there is none", () => {
    expect(requestAddress(new Headers(), 0)).toBeNull();
    expect(requestAddress({ "x-forwarded-for": "" }, 0)).toBeNull();
    expect(requestAddress({ "x-forwarded-for": "a, " }, 0)).toBeNull();
    expect(requestAddress(undefined, 1)).toBeNull();
    expect(requestAddress({ "x-forwarded-for": ["a"] }, 0)).toBeNull();
  });
  it("is cut to 100 characters", () => {
    expect(requestAddress({ "x-forwarded-for": "x".repeat(500) }, 0)).toHaveLength(100);
  });
});

describe("isAdminPage", () => {
  it("covers the admin pages and what is under them, and nothing that merely starts alike", () => {
    for (const path of ["/settings/users", "/settings/tokens", "/activity", "/databases/new", "/settings"]) {
      expect(isAdminPage(path), path).toBe(true);
    }
    for (const path of ["/settings/retentionx", "/settings/retention-other"])
      expect(isAdminPage(path), path).toBe(true);
    for (const path of ["/databases", "/databases/newish", "/activityx", "/changes", "/", "/settings/retention"]) {
      expect(isAdminPage(path), path).toBe(false);
    }
  });
});
