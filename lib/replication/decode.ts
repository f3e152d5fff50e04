/**
 * pgoutput text values -> JSON text fragments, exactly.
 *
 * Values never pass through JavaScript numbers: an int8 or a 40-digit numeric is copied digit
 * for digit into the JSON text, and the row image is cast to jsonb by the store, which keeps
 * numerics exact. Anything without a faithful JSON form is the PostgreSQL text form as a JSON
 * string, so nothing is lost or invented.
 */

type ScalarKind = "bool" | "integer" | "numeric" | "float" | "json" | "text";

const SCALAR_KINDS = new Map<number, ScalarKind>([
  [16, "bool"],
  [20, "integer"], // int8
  [21, "integer"], // int2
  [23, "integer"], // int4
  [26, "integer"], // oid
  [1700, "numeric"],
  [700, "float"], // float4
  [701, "float"], // float8
  [114, "json"],
  [3802, "json"], // jsonb
]);

/**
 * Array type OID -> element type OID, for arrays whose text form uses the `,` delimiter and
 * whose elements we decode. Arrays of other types (box[] uses `;`, user types, ...) stay text.
 */
const ARRAY_ELEMENTS = new Map<number, number>([
  [1000, 16], // bool[]
  [1005, 21], // int2[]
  [1007, 23], // int4[]
  [1016, 20], // int8[]
  [1028, 26], // oid[]
  [1231, 1700], // numeric[]
  [1021, 700], // float4[]
  [1022, 701], // float8[]
  [199, 114], // json[]
  [3807, 3802], // jsonb[]
  [1009, 25], // text[]
  [1015, 1043], // varchar[]
  [1014, 1042], // bpchar[]
  [1002, 18], // char[]
  [1003, 19], // name[]
  [2951, 2950], // uuid[]
  [1182, 1082], // date[]
  [1183, 1083], // time[]
  [1270, 1266], // timetz[]
  [1115, 1114], // timestamp[]
  [1185, 1184], // timestamptz[]
  [1187, 1186], // interval[]
  [1001, 17], // bytea[]
  [1041, 869], // inet[]
  [651, 650], // cidr[]
  [1040, 829], // macaddr[]
  [775, 774], // macaddr8[]
  [1561, 1560], // bit[]
  [1563, 1562], // varbit[]
  [791, 790], // money[]
]);

const INTEGER_TEXT = /^-?(?:0|[1-9]\d*)$/;
const DECIMAL_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
const FLOAT_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
// jsonb rejects \u0000 even though json accepts it; such a json value is kept as a string so
// the row still stores (a rejected row would stall the source forever).
const JSON_NUL_ESCAPE = /\\u0000/;

function jsonString(text: string): string {
  return JSON.stringify(text);
}

function decodeScalar(typeOid: number, text: string): string {
  switch (SCALAR_KINDS.get(typeOid) ?? "text") {
    case "bool":
      return text === "t" ? "true" : text === "f" ? "false" : jsonString(text);
    case "integer":
      return INTEGER_TEXT.test(text) ? text : jsonString(text);
    case "numeric":
      // NaN, Infinity, -Infinity have no JSON number form.
      return DECIMAL_TEXT.test(text) ? text : jsonString(text);
    case "float":
      // PostgreSQL prints the shortest exact form ("1e+30", "-0"), which is valid JSON as is.
      return FLOAT_TEXT.test(text) ? text : jsonString(text);
    case "json":
      return JSON_NUL_ESCAPE.test(text) ? jsonString(text) : text;
    case "text":
      return jsonString(text);
  }
}

/** Parsed PostgreSQL array literal: element text, NULL, or a nested dimension. */
export type ArrayNode = string | null | ArrayNode[];

/**
 * Parses PostgreSQL's array output (`{1,NULL,"a \"b\""}`, `{{1,2},{3,4}}`). Returns null for
 * forms this does not map to JSON (explicit bounds such as `[0:1]={1,2}`) and throws on
 * malformed text; callers then keep the whole text.
 */
export function parseArrayLiteral(text: string, delimiter = ","): ArrayNode[] | null {
  if (text.startsWith("[")) return null;
  let position = 0;

  const skipSpace = () => {
    while (position < text.length && /\s/.test(text.charAt(position))) position++;
  };
  const fail = (what: string): never => {
    throw new Error(`Malformed array literal (${what} at ${position})`);
  };

  const parseQuoted = (): string => {
    position++; // opening quote
    let value = "";
    while (position < text.length) {
      const char = text.charAt(position);
      if (char === "\\") {
        value += text.charAt(position + 1);
        position += 2;
      } else if (char === '"') {
        position++;
        return value;
      } else {
        value += char;
        position++;
      }
    }
    return fail("unterminated quote");
  };

  const parseUnquoted = (): string | null => {
    let value = "";
    while (position < text.length) {
      const char = text.charAt(position);
      if (char === delimiter || char === "}") break;
      if (char === "{" || char === '"') fail("unexpected character");
      if (char === "\\") {
        value += text.charAt(position + 1);
        position += 2;
      } else {
        value += char;
        position++;
      }
    }
    const trimmed = value.trim();
    if (trimmed === "") fail("empty element");
    return trimmed.toUpperCase() === "NULL" ? null : trimmed;
  };

  const parseDimension = (): ArrayNode[] => {
    if (text.charAt(position) !== "{") fail("expected {");
    position++;
    const items: ArrayNode[] = [];
    skipSpace();
    if (text.charAt(position) === "}") {
      position++;
      return items;
    }
    for (;;) {
      skipSpace();
      const char = text.charAt(position);
      if (char === "{") items.push(parseDimension());
      else if (char === '"') items.push(parseQuoted());
      else items.push(parseUnquoted());
      skipSpace();
      const next = text.charAt(position);
      position++;
      if (next === "}") return items;
      if (next !== delimiter) fail("expected delimiter");
    }
  };

  const result = parseDimension();
  skipSpace();
  if (position !== text.length) fail("trailing text");
  return result;
}

function arrayToJson(node: ArrayNode, elementOid: number): string {
  if (node === null) return "null";
  if (typeof node === "string") return decodeScalar(elementOid, node);
  return `[${node.map((child) => arrayToJson(child, elementOid)).join(",")}]`;
}

function decodeArray(elementOid: number, text: string): string {
  let parsed: ArrayNode[] | null;
  try {
    parsed = parseArrayLiteral(text);
  } catch {
    parsed = null;
  }
  return parsed === null ? jsonString(text) : arrayToJson(parsed, elementOid);
}

/** One non-NULL pgoutput text value of the given type as a JSON text fragment. */
export function decodeValue(typeOid: number, text: string): string {
  const elementOid = ARRAY_ELEMENTS.get(typeOid);
  return elementOid === undefined ? decodeScalar(typeOid, text) : decodeArray(elementOid, text);
}
