import { describe, expect, it } from "vitest";
import { backoffDelay } from "./backoff";

describe("backoffDelay", () => {
  it("grows exponentially from 1 s, capped at 30 s, with jitter in the upper half", () => {
    expect(backoffDelay(0, 1_000, 30_000, () => 0)).toBe(1_000);
    expect(backoffDelay(1, 1_000, 30_000, () => 0)).toBe(1_000);
    expect(backoffDelay(1, 1_000, 30_000, () => 1)).toBe(2_000);
    expect(backoffDelay(3, 1_000, 30_000, () => 0.5)).toBe(6_000);
    expect(backoffDelay(20, 1_000, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(20, 1_000, 30_000, () => 0)).toBe(15_000);
    for (let attempt = 0; attempt < 30; attempt++) {
      const delay = backoffDelay(attempt, 1_000, 30_000);
      expect(delay).toBeGreaterThanOrEqual(1_000);
      expect(delay).toBeLessThanOrEqual(30_000);
    }
  });
});
