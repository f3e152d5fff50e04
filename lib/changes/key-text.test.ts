import { describe, expect, it } from "vitest";
import { readableKey } from "./key-text";

describe("readableKey", () => {
  it("shows a single-column key as its text", () => {
    expect(readableKey("42")).toBe("42");
    expect(readableKey("SKU-1")).toBe("SKU-1");
    expect(readableKey("a,b")).toBe("a,b");
    expect(readableKey("[not json")).toBe("[not json");
  });

  it("shows a composite key as a tuple, quoting the parts a tuple could not hold plainly", () => {
    expect(readableKey('["31","1"]')).toBe("(31, 1)");
    expect(readableKey('["a,b","c"]')).toBe('("a,b", c)');
    expect(readableKey('["say \\"hi\\"", " x"]')).toBe('("say ""hi""", " x")');
    expect(readableKey('["", "(1)"]')).toBe('("", "(1)")');
  });

  it("leaves a key alone that is no array of texts", () => {
    expect(readableKey("[1,2]")).toBe("[1,2]");
    expect(readableKey("[]")).toBe("[]");
  });
});
