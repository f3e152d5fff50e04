import { describe, expect, it } from "vitest";
import { describeRange, fromLocalInput, presetOf, resolveTime, toLocalInput } from "./time-range";

const now = Date.parse("2026-05-07T10:00:00.000Z");

describe("time range", () => {
  it("resolves a preset against now and leaves an ISO time as it is", () => {
    expect(resolveTime("now-15m", now)).toBe("2026-05-07T09:45:00.000Z");
    expect(resolveTime("now-1h", now)).toBe("2026-05-07T09:00:00.000Z");
    expect(resolveTime("now-1d", now)).toBe("2026-05-06T10:00:00.000Z");
    expect(resolveTime("now-7d", now)).toBe("2026-04-30T10:00:00.000Z");
    expect(resolveTime("2026-05-01T00:00:00Z", now)).toBe("2026-05-01T00:00:00Z");
    expect(resolveTime("yesterday", now)).toBe("yesterday");
  });

  it("names a preset only when it runs up to now", () => {
    expect(presetOf({ from: "now-1h" })?.label).toBe("Last hour");
    expect(presetOf({ from: "now-1h", to: "2026-05-07T10:00:00Z" })).toBeUndefined();
    expect(describeRange({ from: "now-7d" })).toBe("Last 7 days");
    expect(describeRange({})).toBeNull();
    expect(describeRange({ from: "2026-05-07T09:00:00Z" })).toMatch(/^Since 7 May 2026/);
    expect(describeRange({ from: "2026-05-07T09:00:00Z", to: "2026-05-07T10:00:00Z" })).toMatch(/ – /);
  });

  it("round-trips a datetime-local value through ISO", () => {
    const local = toLocalInput("2026-05-07T09:30:00.000Z", now);
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    expect(fromLocalInput(local)).toBe("2026-05-07T09:30:00.000Z");
    expect(fromLocalInput("")).toBe("");
    expect(toLocalInput(undefined, now)).toBe("");
  });
});
