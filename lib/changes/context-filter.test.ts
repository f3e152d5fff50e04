import { describe, expect, it } from "vitest";
import { contextPairs, contextParam, contextValueJson, parseContextPair, typedValue } from "./context-filter";

describe("context filter pairs", () => {
  it("keeps a typed number a number, digit for digit, and quotes make text", () => {
    expect(contextValueJson("42")).toBe("42");
    expect(contextValueJson(" -1.50 ")).toBe("-1.50");
    expect(contextValueJson("12345678901234567890123")).toBe("12345678901234567890123");
    expect(contextValueJson('"42"')).toBe('"42"');
    expect(contextValueJson("true")).toBe("true");
    expect(contextValueJson("null")).toBe("null");
    expect(contextValueJson("POST /orders")).toBe('"POST /orders"');
    expect(contextValueJson("042")).toBe('"042"');
    expect(contextValueJson('"say "hi""')).toBe('"say \\"hi\\""');
  });

  it("splits a pair at its first =", () => {
    expect(parseContextPair("user_id = 42")).toEqual({ key: "user_id", value: "42" });
    expect(parseContextPair("query=a=b")).toEqual({ key: "query", value: '"a=b"' });
    expect(parseContextPair("no equals")).toBeNull();
    expect(parseContextPair(" = 1")).toBeNull();
  });

  it("builds the API's JSON object, the last value of a key winning, and reads it back", () => {
    const pairs = [
      { key: "user_id", value: "42" },
      { key: "endpoint", value: '"POST /orders"' },
      { key: "user_id", value: "12345678901234567890123" },
    ];
    const param = contextParam(pairs);
    expect(param).toBe('{"user_id":12345678901234567890123,"endpoint":"POST /orders"}');
    expect(contextPairs(param)).toEqual([
      { key: "user_id", value: "12345678901234567890123" },
      { key: "endpoint", value: '"POST /orders"' },
    ]);
    expect(contextParam([])).toBe("");
    expect(contextPairs(undefined)).toEqual([]);
    expect(contextPairs("[1]")).toBeNull();
    expect(contextPairs("{oops")).toBeNull();
  });

  it("shows a value the way it would be typed to mean the same", () => {
    expect(typedValue("42")).toBe("42");
    expect(typedValue('"POST /orders"')).toBe("POST /orders");
    expect(typedValue('"42"')).toBe('"42"');
    expect(typedValue('"true"')).toBe('"true"');
    for (const typed of ["42", '"42"', "POST /orders", '"true"', "null"]) {
      expect(contextValueJson(typedValue(contextValueJson(typed)))).toBe(contextValueJson(typed));
    }
  });
});
