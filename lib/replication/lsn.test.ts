import { describe, expect, it } from "vitest";
import { compareLsn, formatLsn, libraryAcknowledgeArgument, normalizeLsn, parseLsn, parseLsnHalves } from "./lsn";
import { microsToTimestamp } from "./time";

describe("LSNs", () => {
  it("normalises the library's zero-padded form", () => {
    expect(normalizeLsn("00000000/0177A428")).toBe("0/177A428");
    expect(normalizeLsn("0000001A/00000000")).toBe("1A/0");
    expect(parseLsn("1/0")).toBe(1n << 32n);
    expect(formatLsn((5n << 32n) + 255n)).toBe("5/FF");
    expect(compareLsn("0/FF", "1/0")).toBe(-1);
    expect(compareLsn("0/10", "0/0F")).toBe(1);
    expect(compareLsn("FFFFFFFF/1", "FFFFFFFF/0")).toBe(1);
    expect(compareLsn("1/0", "00000001/00000000")).toBe(0);
    expect(normalizeLsn("1A/FF")).toBe("1A/FF");
    expect(normalizeLsn("1a/ff")).toBe("1A/FF");
    expect(normalizeLsn("0/0")).toBe("0/0");
  });

  it("makes the library acknowledge exactly the given position (it adds one)", () => {
    expect(libraryAcknowledgeArgument("0/1A2B3C")).toBe("0/1A2B3B");
    expect(libraryAcknowledgeArgument("1/0")).toBe("0/FFFFFFFF");
    expect(libraryAcknowledgeArgument("0/0")).toBeNull();
  });

  it("rejects garbage", () => {
    expect(() => parseLsn("nope")).toThrow();
  });

  it("reads both halves of an LSN, in either case", () => {
    expect(parseLsnHalves("FFFFFFFF/FFFFFFFE")).toEqual({ high: 0xffffffff, low: 0xfffffffe });
    expect(parseLsnHalves("16/b374d848")).toEqual({ high: 0x16, low: 0xb374d848 });
    expect(parseLsnHalves("0/0")).toEqual({ high: 0, low: 0 });
    expect(parseLsn("FFFFFFFF/FFFFFFFF")).toBe(2n ** 64n - 1n);
  });

  it.each(["0/", "/0", "0/G", "1/2/3", "0/100000000", "00", "", " 0/0", "0/0 "])("refuses the LSN %j", (text) => {
    expect(() => parseLsnHalves(text)).toThrow("Invalid LSN");
    expect(() => compareLsn(text, "0/1")).toThrow("Invalid LSN");
  });
});

describe("microsToTimestamp", () => {
  it("keeps microseconds", () => {
    // 2024-01-02T03:04:05.123456Z
    const micros = Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 123456;
    expect(microsToTimestamp(micros)).toBe("2024-01-02T03:04:05.123456Z");
    // The same second again (cached), then the next one.
    expect(microsToTimestamp(micros + 1)).toBe("2024-01-02T03:04:05.123457Z");
    expect(microsToTimestamp(micros + 876544)).toBe("2024-01-02T03:04:06.000000Z");
    expect(microsToTimestamp(Date.UTC(2000, 0, 1) * 1000 + 1)).toBe("2000-01-01T00:00:00.000001Z");
    expect(microsToTimestamp(Date.UTC(2000, 0, 1) * 1000 + 999_999)).toBe("2000-01-01T00:00:00.999999Z");
  });

  it("counts fractions of a second before 1970 forwards from the earlier second", () => {
    expect(microsToTimestamp(-1)).toBe("1969-12-31T23:59:59.999999Z");
    expect(microsToTimestamp(-1_000_000)).toBe("1969-12-31T23:59:59.000000Z");
  });

  it("refuses what a double cannot hold exactly", () => {
    expect(() => microsToTimestamp(2 ** 53)).toThrow(/out of range/);
  });
});
