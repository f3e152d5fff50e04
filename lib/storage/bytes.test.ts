import { describe, expect, it } from "vitest";
import { formatBytes } from "./bytes";

describe("formatBytes", () => {
  it("says sizes as pg_size_pretty does, in units of 1024", () => {
    expect(formatBytes(0)).toBe("0 bytes");
    expect(formatBytes(8192)).toBe("8,192 bytes");
    expect(formatBytes(16 * 1024)).toBe("16 kB");
    expect(formatBytes(12.34 * 1024 * 1024)).toBe("12.3 MB");
    expect(formatBytes(1.5 * 1024 ** 3 * 100)).toBe("150 GB");
  });
});
