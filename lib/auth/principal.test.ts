import { describe, expect, it } from "vitest";
import { isAdminPage } from "./pages";
import { requestAddress } from "./principal";

describe("requestAddress", () => {
  it("is the first X-Forwarded-For entry, from Headers or next-auth's plain object", () => {
    expect(requestAddress(new Headers({ "x-forwarded-for": "203.0.113.7, 10.0.0.1" }))).toBe("203.0.113.7");
    expect(requestAddress({ "x-forwarded-for": " ::1 " })).toBe("::1");
  });
  it("is null when there is none", () => {
    expect(requestAddress(new Headers())).toBeNull();
    expect(requestAddress({ "x-forwarded-for": "" })).toBeNull();
    expect(requestAddress(undefined)).toBeNull();
    expect(requestAddress({ "x-forwarded-for": ["a"] })).toBeNull();
  });
  it("is cut to 100 characters", () => {
    expect(requestAddress({ "x-forwarded-for": "x".repeat(500) })).toHaveLength(100);
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
