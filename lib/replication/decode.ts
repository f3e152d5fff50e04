/**
 * pgoutput text values -> JSON text fragments, exactly.
 *
 * Values never pass through JavaScript numbers: an int8 or a 40-digit numeric is copied digit
 * for digit into the JSON text, which the store keeps as written (a json column). Every image is
 * also valid jsonb (queries may cast it, and jsonb keeps numerics exact): anything without a
 * faithful JSON form is the PostgreSQL text form as a JSON string, so nothing is lost or invented:
 * NaN and infinities, float -0, json documents jsonb cannot hold, arrays with explicit bounds,
 * every non-array type without a JSON counterpart.
 */

/**
 * Built-in array type OID -> element type OID, for every built-in array type whose text form is
 * an array literal (int2vector and oidvector print space-separated lists and stay text).
 * Elements follow their own type's rule, so a uuid[] is an array of strings. Arrays of
 * user-defined types, and domains, are resolved from the source catalog into a ValueType
 * (lib/replication/types.ts) and decoded with decodeResolved.
 */
const ARRAY_ELEMENTS = new Map<number, number>([
  [1000, 16], // bool[]
  [1001, 17], // bytea[]
  [1002, 18], // char[]
  [1003, 19], // name[]
  [1005, 21], // int2[]
  [1006, 22], // int2vector[]
  [1007, 23], // int4[]
  [1008, 24], // regproc[]
  [1009, 25], // text[]
  [1010, 27], // tid[]
  [1011, 28], // xid[]
  [1012, 29], // cid[]
  [1013, 30], // oidvector[]
  [1014, 1042], // bpchar[]
  [1015, 1043], // varchar[]
  [1016, 20], // int8[]
  [1017, 600], // point[]
  [1018, 601], // lseg[]
  [1019, 602], // path[]
  [1020, 603], // box[] (elements separated by `;`)
  [1021, 700], // float4[]
  [1022, 701], // float8[]
  [1027, 604], // polygon[]
  [1028, 26], // oid[]
  [1034, 1033], // aclitem[]
  [1040, 829], // macaddr[]
  [1041, 869], // inet[]
  [1115, 1114], // timestamp[]
  [1182, 1082], // date[]
  [1183, 1083], // time[]
  [1185, 1184], // timestamptz[]
  [1187, 1186], // interval[]
  [1231, 1700], // numeric[]
  [1270, 1266], // timetz[]
  [1561, 1560], // bit[]
  [1563, 1562], // varbit[]
  [143, 142], // xml[]
  [199, 114], // json[]
  [271, 5069], // xid8[]
  [629, 628], // line[]
  [651, 650], // cidr[]
  [719, 718], // circle[]
  [775, 774], // macaddr8[]
  [791, 790], // money[]
  [2201, 1790], // refcursor[]
  [2207, 2202], // regprocedure[]
  [2208, 2203], // regoper[]
  [2209, 2204], // regoperator[]
  [2210, 2205], // regclass[]
  [2211, 2206], // regtype[]
  [2949, 2970], // txid_snapshot[]
  [2951, 2950], // uuid[]
  [3221, 3220], // pg_lsn[]
  [3643, 3614], // tsvector[]
  [3644, 3642], // gtsvector[]
  [3645, 3615], // tsquery[]
  [3735, 3734], // regconfig[]
  [3770, 3769], // regdictionary[]
  [3807, 3802], // jsonb[]
  [3905, 3904], // int4range[]
  [3907, 3906], // numrange[]
  [3909, 3908], // tsrange[]
  [3911, 3910], // tstzrange[]
  [3913, 3912], // daterange[]
  [3927, 3926], // int8range[]
  [4073, 4072], // jsonpath[]
  [4090, 4089], // regnamespace[]
  [4097, 4096], // regrole[]
  [4192, 4191], // regcollation[]
  [5039, 5038], // pg_snapshot[]
  [6150, 4451], // int4multirange[]
  [6151, 4532], // nummultirange[]
  [6152, 4533], // tsmultirange[]
  [6153, 4534], // tstzmultirange[]
  [6155, 4535], // datemultirange[]
  [6157, 4536], // int8multirange[]
]);

/** The one built-in array type whose literal separates elements with `;` (box's text has commas). */
const BOX_ARRAY = 1020;

const INTEGER_TEXT = /^-?(?:0|[1-9]\d*)$/;
const DECIMAL_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?$/;
const FLOAT_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

// What JSON.stringify escapes in a string: control characters, '"', '\\' and (being well-formed)
// lone surrogates; this also sends surrogate pairs its way. A text with none of them comes out
// as itself in quotes, which is built here in about half the time of a JSON.stringify call
// (most values are such, and the call was ~10% of the worker's CPU on the bench's rows).
const ESCAPED_IN_JSON = /[\u0000-\u001f"\\\ud800-\udfff]/;

function jsonString(text: string): string {
  return ESCAPED_IN_JSON.test(text) ? JSON.stringify(text) : `"${text}"`;
}

// What numeric_in, and so a jsonb number, can hold (src/backend/utils/adt/numeric.c): a display
// scale of at most 16383 digits, an NBASE weight of at most 32767 (4 decimal digits each), and an
// exponent below INT_MAX / 2 (PostgreSQL 16+ also takes exactly INT_MAX / 2; older stores do not,
// so that one value is kept as text).
const NUMERIC_MAX_DSCALE = 0x3fff;
const NUMERIC_MAX_LEADING_EXPONENT = 4 * 0x7fff + 3;
const NUMERIC_MAX_EXPONENT = 2 ** 30 - 1;
const JSON_NUMBER = /-?(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?/y;

function numericCanHold(integerDigits: string, fractionDigits: string, exponentText: string | undefined): boolean {
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  if (Math.abs(exponent) >= NUMERIC_MAX_EXPONENT) return false;
  if (fractionDigits.length - exponent > NUMERIC_MAX_DSCALE) return false;
  const leading = (integerDigits + fractionDigits).search(/[1-9]/);
  if (leading < 0) return true; // zero
  return integerDigits.length - 1 - leading + exponent <= NUMERIC_MAX_LEADING_EXPONENT;
}

const HEX4 = /^[0-9a-fA-F]{4}$/;
const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number) => code >= 0xdc00 && code <= 0xdfff;

/**
 * Whether jsonb accepts the text of a json value (which PostgreSQL has already checked to be JSON).
 * The json type checks syntax only, so it holds documents jsonb refuses: a \u0000 escape, an
 * unpaired surrogate escape, a number outside numeric's range. Embedding one of those would make
 * the store reject the row, and with it stall the source for good.
 */
export function jsonbCanHold(text: string): boolean {
  let position = 0;
  while (position < text.length) {
    const char = text.charAt(position);
    if (char === '"') {
      position++;
      let highSurrogatePending = false;
      for (;;) {
        if (position >= text.length) return false;
        const inner = text.charAt(position);
        if (inner === "\\" && text.charAt(position + 1) === "u") {
          const hex = text.slice(position + 2, position + 6);
          if (!HEX4.test(hex)) return false;
          const code = Number.parseInt(hex, 16);
          if (code === 0 || highSurrogatePending !== isLowSurrogate(code)) return false;
          highSurrogatePending = isHighSurrogate(code);
          position += 6;
          continue;
        }
        if (highSurrogatePending) return false;
        if (inner === '"') break;
        position += inner === "\\" ? 2 : 1;
      }
      position++; // closing quote
    } else if (char === "-" || (char >= "0" && char <= "9")) {
      JSON_NUMBER.lastIndex = position;
      const match = JSON_NUMBER.exec(text);
      if (!match || !numericCanHold(match[1] ?? "", match[2] ?? "", match[3])) return false;
      position += match[0].length;
    } else {
      position++;
    }
  }
  return true;
}

const JSON_OID = 114;
const JSONB_OID = 3802;

/** One non-NULL text value of a given type -> its JSON text fragment. */
export type Decoder = (text: string) => string;

const decodeBool: Decoder = (text) => (text === "t" ? "true" : text === "f" ? "false" : jsonString(text));
const decodeInteger: Decoder = (text) => (INTEGER_TEXT.test(text) ? text : jsonString(text));
// NaN, Infinity, -Infinity have no JSON number form.
const decodeNumeric: Decoder = (text) => (DECIMAL_TEXT.test(text) ? text : jsonString(text));
// PostgreSQL prints the shortest exact form ("1e+30"), which is valid JSON as is. Not -0: as a
// jsonb number it would become 0.
const decodeFloat: Decoder = (text) => (FLOAT_TEXT.test(text) && text !== "-0" ? text : jsonString(text));
// json's text only when jsonb can hold it; jsonb's own output always reads back as jsonb.
const decodeJson: Decoder = (text) => (jsonbCanHold(text) ? text : jsonString(text));
const decodeJsonb: Decoder = (text) => text;

/** Built-in scalar types with a JSON form; every other scalar is its text as a JSON string. */
const SCALAR_DECODERS = new Map<number, Decoder>([
  [16, decodeBool],
  [20, decodeInteger], // int8
  [21, decodeInteger], // int2
  [23, decodeInteger], // int4
  [26, decodeInteger], // oid
  [1700, decodeNumeric],
  [700, decodeFloat], // float4
  [701, decodeFloat], // float8
  [JSON_OID, decodeJson],
  [JSONB_OID, decodeJsonb],
]);

const ASCII_SPACE = new Set([" ", "\t", "\n", "\r", "\v", "\f"]);

function trimAsciiSpace(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && ASCII_SPACE.has(value.charAt(start))) start++;
  while (end > start && ASCII_SPACE.has(value.charAt(end - 1))) end--;
  return value.slice(start, end);
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

  // array_in's whitespace is ASCII only; a leading no-break space or BOM is element data.
  const skipSpace = () => {
    while (position < text.length && ASCII_SPACE.has(text.charAt(position))) position++;
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
    const trimmed = trimAsciiSpace(value);
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

/**
 * How a column type's text becomes JSON, resolved down to built-in rules:
 * - `scalar`: the rule of a built-in type OID (integer, numeric, float, bool, json, jsonb). Any
 *   other OID (text, date, an enum, a composite, a range of a user-defined type, ...) is its text
 *   as a JSON string.
 * - `array`: an array literal whose elements are separated by `delimiter` (the element type's
 *   typdelim) and decoded by `element`; NULL elements are null. A literal with explicit bounds,
 *   or one that does not parse, is kept as its text.
 * A domain is described by its base type (domains print exactly as their base type does).
 */
export type ValueType = { kind: "scalar"; oid: number } | { kind: "array"; element: ValueType; delimiter: string };

/**
 * OIDs below this are assigned in PostgreSQL's own catalog files (FirstGenbkiObjectId): the
 * built-in types, all known to builtinType. Anything from here up (user types, extension types,
 * information_schema's domains) needs the source catalog; pgoutput itself draws the same line
 * when it decides which types to describe in type messages.
 */
export const FIRST_NON_BUILTIN_OID = 10_000;

export const isBuiltinType = (typeOid: number): boolean => typeOid >>> 0 < FIRST_NON_BUILTIN_OID;

/** The ValueType of a built-in type OID (any other OID: its text as a string). */
export function builtinType(typeOid: number): ValueType {
  const elementOid = ARRAY_ELEMENTS.get(typeOid);
  if (elementOid === undefined) return { kind: "scalar", oid: typeOid };
  return { kind: "array", element: { kind: "scalar", oid: elementOid }, delimiter: typeOid === BOX_ARRAY ? ";" : "," };
}

function arrayToJson(node: ArrayNode, element: Decoder): string {
  if (node === null) return "null";
  if (typeof node === "string") return element(node);
  return `[${node.map((child) => arrayToJson(child, element)).join(",")}]`;
}

function decodeArray(text: string, delimiter: string, element: Decoder): string {
  let parsed: ArrayNode[] | null;
  try {
    parsed = parseArrayLiteral(text, delimiter);
  } catch {
    parsed = null;
  }
  return parsed === null ? jsonString(text) : arrayToJson(parsed, element);
}

/**
 * The Decoder of a resolved type. Pure. Resolve once per column (per relation message) and call
 * it per value: the choice of rule is not made again for every row.
 */
export function decoderFor(type: ValueType): Decoder {
  if (type.kind === "scalar") return SCALAR_DECODERS.get(type.oid) ?? jsonString;
  const element = decoderFor(type.element);
  const { delimiter } = type;
  return (text) => decodeArray(text, delimiter, element);
}

/**
 * Whether a column of this (resolved) type can hold the JSON literal null: json and jsonb, and
 * domains over them. In a row image that value reads `null`, as SQL NULL does.
 */
export function isJsonType(type: ValueType): boolean {
  return type.kind === "scalar" && (type.oid === JSON_OID || type.oid === JSONB_OID);
}

/**
 * Whether the text of a json or jsonb value is the JSON literal null: jsonb prints it as `null`,
 * json keeps the JSON whitespace it was given around it (PostgreSQL has checked it is JSON, so
 * whatever trim() removes from a valid document is JSON whitespace). Called for every json value:
 * a document that starts with anything but `n` or whitespace is decided by its first character.
 */
export function isJsonNull(text: string): boolean {
  if (text.length <= 4) return text === "null";
  const first = text.charCodeAt(0);
  if (first !== 0x6e && first !== 0x20 && first !== 0x09 && first !== 0x0a && first !== 0x0d) return false;
  return text.trim() === "null";
}

/** One non-NULL pgoutput text value of a resolved type as a JSON text fragment. Pure. */
export function decodeResolved(type: ValueType, text: string): string {
  return decoderFor(type)(text);
}

/** One non-NULL pgoutput text value of the given built-in type as a JSON text fragment. */
export function decodeValue(typeOid: number, text: string): string {
  return decodeResolved(builtinType(typeOid), text);
}
