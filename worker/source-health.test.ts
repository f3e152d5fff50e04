import { describe, expect, it } from "vitest";
import { lagSeconds } from "./source-health";

describe("lagSeconds", () => {
  it("is the age of the transaction being written, when one is open", () => {
    expect(lagSeconds({ openAge: 4.5, storedAge: 3600, behind: true })).toBe(4.5);
    expect(lagSeconds({ openAge: 4.5, storedAge: null, behind: null })).toBe(4.5);
  });

  it("is 0 when the slot confirmed what the source had at the previous measurement", () => {
    expect(lagSeconds({ openAge: null, storedAge: 86_400, behind: false })).toBe(0);
  });

  it("is the age of the last stored commit when behind, and unknown without one", () => {
    expect(lagSeconds({ openAge: null, storedAge: 12.25, behind: true })).toBe(12.25);
    expect(lagSeconds({ openAge: null, storedAge: null, behind: true })).toBeNull();
    expect(lagSeconds({ openAge: null, storedAge: 12.25, behind: null })).toBeNull();
  });

  it("never reports a negative lag (clock of a commit ahead of now)", () => {
    expect(lagSeconds({ openAge: -0.2, storedAge: null, behind: null })).toBe(0);
    expect(lagSeconds({ openAge: null, storedAge: -1, behind: true })).toBe(0);
  });
});
