import { describe, expect, it } from "vitest";
import { stringLook, truncatedText } from "./value-text";

describe("stringLook", () => {
  it("shows text as it is", () => {
    expect(stringLook("Desk lamp")).toEqual({ text: "Desk lamp", note: null });
    expect(stringLook('say "hi"')).toEqual({ text: 'say "hi"', note: null });
  });

  it("names what could pass for NULL, JSON null or nothing", () => {
    expect(stringLook("")).toEqual({ text: "", note: "empty string" });
    expect(stringLook("   ")).toEqual({ text: "···", note: "3 spaces" });
    expect(stringLook(" ")).toEqual({ text: "·", note: "1 space" });
    expect(stringLook(" \t\n")).toEqual({ text: "·→↵", note: "whitespace only, 3 characters" });
    expect(stringLook("null")).toEqual({ text: "null", note: "text, not NULL" });
    expect(stringLook("NULL")).toEqual({ text: "NULL", note: "text, not NULL" });
  });
});

describe("truncatedText", () => {
  it("leaves short text whole, and text only a little over the limit", () => {
    expect(truncatedText("short", 10)).toBeNull();
    expect(truncatedText("x".repeat(12), 10)).toBeNull();
  });

  it("cuts at a space near the limit, else at the limit", () => {
    expect(truncatedText("aaaa bbbb cccc dddd eeee ffff", 10)).toBe("aaaa bbbb");
    expect(truncatedText("x".repeat(30), 10)).toBe("x".repeat(10));
  });

  it("never splits a character made of two UTF-16 units", () => {
    expect(truncatedText("😀".repeat(30), 10)).toBe("😀".repeat(10));
  });
});
