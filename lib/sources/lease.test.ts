import { describe, expect, it } from "vitest";
import { leaseKey } from "./lease";

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
