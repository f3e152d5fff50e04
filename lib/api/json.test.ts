import { describe, expect, it } from "vitest";
import { isJsonObject, JsonNumber, JsonSyntaxError, parseJson, toJsonText } from "./lossless-json";

describe("parseJson", () => {
  it("keeps every digit of int8 and numeric values", () => {
    const value = parseJson('{"a": 9223372036854775807, "b": -0.1000000000000000000000000000000000000001, "c": 1e400}');
    expect(value).toEqual({
      a: new JsonNumber("9223372036854775807"),
      b: new JsonNumber("-0.1000000000000000000000000000000000000001"),
      c: new JsonNumber("1e400"),
    });
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
    expect(value.arr).toEqual([new JsonNumber("1"), "x", [], {}]);
  });

  it("keeps a key called __proto__ as data", () => {
    const value = parseJson('{"__proto__": 1}');
    expect(isJsonObject(value) && Object.keys(value)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
  });

  it("rejects invalid JSON", () => {
    for (const text of ["", "{", '{"a" 1}', "[1,]", "01", "nul", '"abc', "1 2", "{'a': 1}"]) {
      expect(() => parseJson(text), text).toThrow(JsonSyntaxError);
    }
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
