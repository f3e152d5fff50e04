import { describe, expect, it } from "vitest";
import { asksForSettings } from "./edit";
import { parseRemoveOptions } from "./remove";

describe("parseRemoveOptions", () => {
  it("deletes the changes unless asked to keep them, and forces only when asked", () => {
    expect(parseRemoveOptions(new URLSearchParams())).toEqual({ changes: "delete", force: false });
    expect(parseRemoveOptions(new URLSearchParams("changes=keep&force=true"))).toEqual({
      changes: "keep",
      force: true,
    });
  });

  it("refuses other values, and a parameter given twice, naming it", () => {
    expect(() => parseRemoveOptions(new URLSearchParams("changes=maybe"))).toThrow(/keep or delete/);
    expect(() => parseRemoveOptions(new URLSearchParams("force=yes"))).toThrow(/force/);
    expect(() => parseRemoveOptions(new URLSearchParams("changes=keep&changes=delete"))).toThrow(
      /changes: given more than once/,
    );
  });
});

describe("asksForSettings", () => {
  it("tells a settings change from a pause or resume", () => {
    expect(asksForSettings({ enabled: false })).toBe(false);
    expect(asksForSettings({})).toBe(false);
    expect(asksForSettings(null)).toBe(false);
    expect(asksForSettings({ password: "x" })).toBe(true);
    expect(asksForSettings({ name: "shop", enabled: true })).toBe(true);
  });
});
