/**
 * A JSON parser that keeps numbers as their original text. Change images carry int8 and
 * numeric values that JSON.parse would round (9223372036854775807 becomes ...808), so the
 * browser reads the API with this instead. Pure and dependency-free: usable on both sides.
 */
export class JsonNumber {
  constructor(readonly raw: string) {}
  toString(): string {
    return this.raw;
  }
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof JsonNumber);
}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;
const LITERALS: ReadonlyArray<readonly [string, JsonValue]> = [
  ["true", true],
  ["false", false],
  ["null", null],
];

export class JsonSyntaxError extends Error {}

export function parseJson(text: string): JsonValue {
  let at = 0;

  const fail = (what: string): never => {
    throw new JsonSyntaxError(`Invalid JSON at position ${at}: ${what}`);
  };
  const skipWhitespace = () => {
    WHITESPACE.lastIndex = at;
    WHITESPACE.exec(text);
    at = WHITESPACE.lastIndex;
  };
  const expect = (literal: string) => {
    if (!text.startsWith(literal, at)) fail(`expected ${literal}`);
    at += literal.length;
  };

  const parseString = (): string => {
    const start = at;
    at += 1;
    for (;;) {
      const char = text[at];
      if (char === undefined) fail("unterminated string");
      if (char === '"') break;
      at += char === "\\" ? 2 : 1;
    }
    at += 1;
    // JSON.parse is exact for strings and knows every escape.
    return JSON.parse(text.slice(start, at)) as string;
  };

  const parseValue = (): JsonValue => {
    skipWhitespace();
    const char = text[at];
    if (char === "{") {
      at += 1;
      const object: JsonObject = {};
      skipWhitespace();
      if (text[at] === "}") {
        at += 1;
        return object;
      }
      for (;;) {
        skipWhitespace();
        if (text[at] !== '"') fail("expected a key");
        const key = parseString();
        skipWhitespace();
        expect(":");
        // defineProperty, not assignment: a column may be called "__proto__".
        Object.defineProperty(object, key, {
          value: parseValue(),
          enumerable: true,
          writable: true,
          configurable: true,
        });
        skipWhitespace();
        if (text[at] === ",") {
          at += 1;
          continue;
        }
        expect("}");
        return object;
      }
    }
    if (char === "[") {
      at += 1;
      const array: JsonValue[] = [];
      skipWhitespace();
      if (text[at] === "]") {
        at += 1;
        return array;
      }
      for (;;) {
        array.push(parseValue());
        skipWhitespace();
        if (text[at] === ",") {
          at += 1;
          continue;
        }
        expect("]");
        return array;
      }
    }
    if (char === '"') return parseString();
    for (const [literal, literalValue] of LITERALS) {
      if (text.startsWith(literal, at)) {
        at += literal.length;
        return literalValue;
      }
    }
    NUMBER.lastIndex = at;
    const number = NUMBER.exec(text);
    if (!number) return fail("unexpected character");
    at = NUMBER.lastIndex;
    return new JsonNumber(number[0]);
  };

  const value = parseValue();
  skipWhitespace();
  if (at !== text.length) fail("unexpected trailing text");
  return value;
}

/** JSON text of a parsed value with numbers written exactly as received. */
export function toJsonText(value: JsonValue, indent = 0, depth = 0): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return value ? "true" : "false";
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof JsonNumber) return value.raw;
  const inner = indent > 0 ? `\n${" ".repeat(indent * (depth + 1))}` : "";
  const outer = indent > 0 ? `\n${" ".repeat(indent * depth)}` : "";
  const separator = indent > 0 ? ": " : ":";
  const items = Array.isArray(value)
    ? value.map((item) => toJsonText(item, indent, depth + 1))
    : Object.entries(value).map(
        ([key, item]) => `${JSON.stringify(key)}${separator}${toJsonText(item, indent, depth + 1)}`,
      );
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (items.length === 0) return `${open}${close}`;
  return `${open}${inner}${items.join(`,${inner}`)}${outer}${close}`;
}
