import { describe, expect, it } from "vitest";
import { leaseKey } from "./lease";
import { backoffDelay } from "./source-stream";

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

describe("leaseKey", () => {
  it("is a stable signed 64-bit integer per source", () => {
    const id = "0b6f1c1e-4a57-4b4e-9a43-5d0c1b7e2f10";
    const key = leaseKey(id);
    expect(leaseKey(id)).toBe(key);
    expect(leaseKey("3f0e4a52-0000-4000-8000-000000000000")).not.toBe(key);
    const value = BigInt(key);
    expect(value >= -(2n ** 63n) && value < 2n ** 63n).toBe(true);
  });
});
