import { describe, expect, it } from "vitest";
import { isJsonObject, LosslessNumber, parseJson, toJsonText } from "./json";

describe("parseJson", () => {
  it("keeps every digit of int8 and numeric values", () => {
    const value = parseJson(
      '{"a": 9223372036854775807, "b": -0.1000000000000000000000000000000000000001, "c": 1e400, ' +
        '"d": 1234567890123456789012345678901234567890, "e": 24.50}',
    );
    expect(value).toEqual({
      a: new LosslessNumber("9223372036854775807"),
      b: new LosslessNumber("-0.1000000000000000000000000000000000000001"),
      c: new LosslessNumber("1e400"),
      d: new LosslessNumber("1234567890123456789012345678901234567890"),
      e: new LosslessNumber("24.50"),
    });
  });

  it("reads a number as a JavaScript number only when its text is exactly how JavaScript writes it", () => {
    expect(parseJson("[1, -2.5, 0.1, 9007199254740991, 1e+21, 5e-7]")).toEqual([
      1, -2.5, 0.1, 9007199254740991, 1e21, 5e-7,
    ]);
    const kept = ["1.0", "-0", "1E5", "1e21", "9007199254740993", "0.10", "5e-07"];
    expect(parseJson(`[${kept.join(", ")}]`)).toEqual(kept.map((text) => new LosslessNumber(text)));
  });

  it("parses the other JSON values like JSON.parse", () => {
    const text =
      '{"s": "null", "n": null, "t": true, "f": false, "arr": [1, "x", [], {}], "esc": "a\\"b\\\\c\\u00e9\\n"}';
    const value = parseJson(text);
    expect(isJsonObject(value)).toBe(true);
    if (!isJsonObject(value)) return;
    expect(value.s).toBe("null");
    expect(value.n).toBeNull();
    expect(value.t).toBe(true);
    expect(value.f).toBe(false);
    expect(value.esc).toBe('a"b\\cé\n');
    expect(value.arr).toEqual([1, "x", [], {}]);
  });

  it("keeps a key called __proto__ as data", () => {
    const value = parseJson('{"__proto__": 1}');
    expect(isJsonObject(value) && Object.keys(value)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it("rejects invalid JSON", () => {
    for (const text of ["", "{", '{"a" 1}', "[1,]", "01", "nul", '"abc', "1 2", "{'a': 1}"]) {
      expect(() => parseJson(text), text).toThrow(SyntaxError);
    }
  });

  it("keeps the last value of a repeated key, as JSON.parse does (a json column may hold one)", () => {
    expect(parseJson('{"doc": {"a": 1, "a": 9223372036854775807}}')).toEqual({
      doc: { a: new LosslessNumber("9223372036854775807") },
    });
  });
});

describe("toJsonText", () => {
  it("round-trips exactly, compact or indented", () => {
    const text = '{"id":9223372036854775807,"tags":["a",null],"nested":{"x":1.50}}';
    expect(toJsonText(parseJson(text))).toBe(text);
    expect(toJsonText(parseJson(text), 2)).toBe(
      '{\n  "id": 9223372036854775807,\n  "tags": [\n    "a",\n    null\n  ],\n  "nested": {\n    "x": 1.50\n  }\n}',
    );
    expect(toJsonText(parseJson("[]"), 2)).toBe("[]");
  });
});
