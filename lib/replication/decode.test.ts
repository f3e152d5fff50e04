import { describe, expect, it } from "vitest";
import {
  builtinType,
  decodeResolved,
  decodeValue,
  isBuiltinType,
  isJsonNull,
  isJsonType,
  jsonbCanHold,
  parseArrayLiteral,
  type ValueType,
} from "./decode";

const OID = {
  bool: 16,
  int2: 21,
  int4: 23,
  int8: 20,
  oid: 26,
  numeric: 1700,
  float4: 700,
  float8: 701,
  text: 25,
  varchar: 1043,
  json: 114,
  jsonb: 3802,
  timestamptz: 1184,
  uuid: 2950,
  money: 790,
  int4Array: 1007,
  int8Array: 1016,
  numericArray: 1231,
  textArray: 1009,
  boolArray: 1000,
  jsonbArray: 3807,
  floatArray: 1022,
  timestamptzArray: 1185,
  boxArray: 1020,
  pointArray: 1017,
  int4rangeArray: 3905,
  uuidArray: 2951,
  int2vector: 22,
};

describe("decodeValue", () => {
  it("keeps every digit of integers", () => {
    expect(decodeValue(OID.int8, "9223372036854775807")).toBe("9223372036854775807");
    expect(decodeValue(OID.int8, "-9223372036854775808")).toBe("-9223372036854775808");
    expect(decodeValue(OID.int2, "-32768")).toBe("-32768");
    expect(decodeValue(OID.int4, "0")).toBe("0");
    expect(decodeValue(OID.oid, "4294967295")).toBe("4294967295");
  });

  it("keeps every digit of numerics and strings the non-finite ones", () => {
    const forty = "1234567890123456789012345678901234567890";
    expect(decodeValue(OID.numeric, forty)).toBe(forty);
    expect(decodeValue(OID.numeric, `-${forty}.000100`)).toBe(`-${forty}.000100`);
    expect(decodeValue(OID.numeric, "0.5")).toBe("0.5");
    expect(decodeValue(OID.numeric, "NaN")).toBe('"NaN"');
    expect(decodeValue(OID.numeric, "Infinity")).toBe('"Infinity"');
    expect(decodeValue(OID.numeric, "-Infinity")).toBe('"-Infinity"');
  });

  it("keeps floats as PostgreSQL printed them", () => {
    expect(decodeValue(OID.float8, "0.1")).toBe("0.1");
    expect(decodeValue(OID.float8, "1e+30")).toBe("1e+30");
    expect(decodeValue(OID.float8, "1.2345678901234567e-05")).toBe("1.2345678901234567e-05");
    // -0 has no jsonb number form (jsonb would store 0): kept as text, like NaN.
    expect(decodeValue(OID.float4, "-0")).toBe('"-0"');
    expect(decodeValue(OID.float8, "-0")).toBe('"-0"');
    expect(decodeValue(OID.float8, "-0.5")).toBe("-0.5");
    expect(decodeValue(OID.float8, "5e-324")).toBe("5e-324");
    expect(decodeValue(OID.float8, "NaN")).toBe('"NaN"');
    expect(decodeValue(OID.float8, "-Infinity")).toBe('"-Infinity"');
    expect(JSON.parse(`[${decodeValue(OID.float8, "1e+30")}]`)).toEqual([1e30]);
  });

  it("maps booleans", () => {
    expect(decodeValue(OID.bool, "t")).toBe("true");
    expect(decodeValue(OID.bool, "f")).toBe("false");
  });

  it("quotes text exactly, unicode, quotes and backslashes included", () => {
    const text = 'Zoë "quoted" back\\slash \u2028 line\nnew \t 😀 {a,b}';
    const json = decodeValue(OID.text, text);
    expect(JSON.parse(json)).toBe(text);
    expect(decodeValue(OID.varchar, "")).toBe('""');
    expect(decodeValue(OID.uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")).toBe(
      '"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"',
    );
    expect(decodeValue(OID.money, "$1,000.00")).toBe('"$1,000.00"');
  });

  it("quotes text as JSON.stringify does, for every UTF-16 code unit alone and amid plain text", () => {
    for (let unit = 0; unit <= 0xffff; unit++) {
      const char = String.fromCharCode(unit);
      for (const text of [char, `plain ${char} text`]) {
        const json = decodeValue(OID.text, text);
        if (json !== JSON.stringify(text)) expect(json, `U+${unit.toString(16)}`).toBe(JSON.stringify(text));
      }
    }
    for (const text of ["😀", "a😀b", "\ud83d", "x\ude00", "\ude00\ud83d"]) {
      expect(decodeValue(OID.text, text)).toBe(JSON.stringify(text));
    }
  });

  it("keeps timestamptz text with microseconds", () => {
    expect(decodeValue(OID.timestamptz, "2024-02-29 23:59:59.123456+00")).toBe('"2024-02-29 23:59:59.123456+00"');
  });

  it("embeds json and jsonb as they are", () => {
    const doc = '{"big": 123456789012345678901234567890, "a": [1, "x"]}';
    expect(decodeValue(OID.jsonb, doc)).toBe(doc);
    expect(decodeValue(OID.json, "[1,  2]")).toBe("[1,  2]");
    expect(decodeValue(OID.json, "null")).toBe("null");
  });

  it("strings json that jsonb would refuse, and only that", () => {
    for (const doc of [
      '{"a": "x\\u0000y"}',
      '"unpaired \\ud800 high"',
      '"unpaired \\udc00 low"',
      '"high then text \\ud83dx"',
      '"two highs \\ud83d\\ud83d"',
      '"high at the end \\ud83d"',
      "[1e131072]",
      "1e-16384",
      "0.1e-16383",
      "0e1073741823",
      `1${"0".repeat(131072)}`,
    ]) {
      expect(jsonbCanHold(doc), doc.slice(0, 40)).toBe(false);
      expect(decodeValue(OID.json, doc)).toBe(JSON.stringify(doc));
    }
    for (const doc of [
      '"escaped backslash \\\\u0000 is text"',
      '"pair \\ud83d\\ude00"',
      '"\\u00e9 \\\\ \\" quote"',
      "[1e131071, -1e-16383, 0.5e-16382, 0e-16383, 1000e131068]",
      `1${"0".repeat(131071)}`,
      '{"k\\"": [true, null, -0, 12.50e+3]}',
    ]) {
      expect(jsonbCanHold(doc), doc.slice(0, 40)).toBe(true);
      expect(decodeValue(OID.json, doc)).toBe(doc);
    }
    // jsonb values are always embedded: their output is jsonb by construction.
    expect(decodeValue(OID.jsonb, '"\\ud83d\\ude00"')).toBe('"\\ud83d\\ude00"');
  });

  it("decodes arrays of known element types, nested, with NULLs and quoted elements", () => {
    expect(decodeValue(OID.int8Array, "{9223372036854775807,NULL,-1}")).toBe("[9223372036854775807,null,-1]");
    expect(decodeValue(OID.int4Array, "{{1,2},{3,NULL}}")).toBe("[[1,2],[3,null]]");
    expect(decodeValue(OID.numericArray, "{1.50,NaN}")).toBe('[1.50,"NaN"]');
    expect(decodeValue(OID.boolArray, "{t,f,NULL}")).toBe("[true,false,null]");
    expect(decodeValue(OID.floatArray, "{Infinity,1e-07}")).toBe('["Infinity",1e-07]');
    expect(decodeValue(OID.int4Array, "{}")).toBe("[]");
    const textArray = '{plain,"with space","a \\"quote\\"","back\\\\slash","NULL",NULL,"","{brace}","a,b"}';
    expect(JSON.parse(decodeValue(OID.textArray, textArray))).toEqual([
      "plain",
      "with space",
      'a "quote"',
      "back\\slash",
      "NULL",
      null,
      "",
      "{brace}",
      "a,b",
    ]);
    expect(JSON.parse(decodeValue(OID.textArray, '{{"a b",c},{NULL,"d\\"e"}}'))).toEqual([
      ["a b", "c"],
      [null, 'd"e'],
    ]);
    expect(decodeValue(OID.jsonbArray, '{"{\\"a\\": 1}","[1, 2]",NULL}')).toBe('[{"a": 1},[1, 2],null]');
    expect(decodeValue(OID.timestamptzArray, '{"2024-01-01 00:00:00.000001+00"}')).toBe(
      '["2024-01-01 00:00:00.000001+00"]',
    );
  });

  it("decodes every built-in array type, box[] with its `;` delimiter", () => {
    expect(JSON.parse(decodeValue(OID.boxArray, "{(1,1),(0,0);(2,2),(1,1)}"))).toEqual(["(1,1),(0,0)", "(2,2),(1,1)"]);
    expect(JSON.parse(decodeValue(OID.pointArray, '{"(1,2)",NULL}'))).toEqual(["(1,2)", null]);
    expect(JSON.parse(decodeValue(OID.int4rangeArray, '{"[1,3)",empty}'))).toEqual(["[1,3)", "empty"]);
    expect(JSON.parse(decodeValue(OID.uuidArray, "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}"))).toEqual([
      "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    ]);
    expect(decodeValue(OID.floatArray, "{-0,0}")).toBe('["-0",0]');
  });

  it("keeps non-ASCII white space of unquoted elements (PostgreSQL only quotes ASCII space)", () => {
    expect(JSON.parse(decodeValue(OID.textArray, "{\u00a0nbsp\u00a0,\ufeffbom,\u2003em}"))).toEqual([
      "\u00a0nbsp\u00a0",
      "\ufeffbom",
      "\u2003em",
    ]);
  });

  it("keeps arrays it cannot map faithfully as their text", () => {
    expect(decodeValue(OID.int4Array, "[0:1]={1,2}")).toBe('"[0:1]={1,2}"');
    expect(decodeValue(OID.int2vector, "1 2")).toBe('"1 2"');
    expect(decodeValue(OID.int4Array, "{1,2")).toBe('"{1,2"');
  });
});

describe("decodeResolved", () => {
  const scalar = (oid: number): ValueType => ({ kind: "scalar", oid });
  const array = (element: ValueType, delimiter = ","): ValueType => ({ kind: "array", element, delimiter });
  const USER_TYPE = 16_400; // a user-defined type (enum, composite, ...): no built-in rule, so text

  it("decodes a domain by its base type's rule", () => {
    expect(decodeResolved(scalar(OID.int4), "2147483647")).toBe("2147483647");
    expect(decodeResolved(scalar(OID.numeric), "1.50")).toBe("1.50");
    expect(decodeResolved(scalar(OID.bool), "t")).toBe("true");
    expect(decodeResolved(scalar(OID.jsonb), '{"a": 1}')).toBe('{"a": 1}');
    expect(decodeResolved(scalar(OID.text), "x@y")).toBe('"x@y"');
  });

  it("keeps enums, composites and other user-defined types as their text", () => {
    expect(decodeResolved(scalar(USER_TYPE), "happy")).toBe('"happy"');
    expect(decodeResolved(scalar(USER_TYPE), "(1,x)")).toBe('"(1,x)"');
  });

  it("decodes arrays of user-defined types as arrays of their element rule", () => {
    expect(decodeResolved(array(scalar(USER_TYPE)), "{happy,NULL,sad}")).toBe('["happy",null,"sad"]');
    expect(decodeResolved(array(scalar(OID.int4)), "{{1,NULL},{3,4}}")).toBe("[[1,null],[3,4]]");
    expect(JSON.parse(decodeResolved(array(scalar(USER_TYPE)), '{"(1,\\"a b\\")",NULL,"(,)"}'))).toEqual([
      '(1,"a b")',
      null,
      "(,)",
    ]);
    expect(decodeResolved(array(scalar(USER_TYPE), ";"), "{a,b;c}")).toBe('["a,b","c"]');
    expect(decodeResolved(array(scalar(USER_TYPE)), "[2:2]={x}")).toBe('"[2:2]={x}"');
  });

  it("decodes an array of domains over arrays as nested arrays", () => {
    expect(decodeResolved(array(array(scalar(OID.int4))), '{"{1,2}",NULL,"{}"}')).toBe("[[1,2],null,[]]");
  });

  it("is what decodeValue does for built-in types", () => {
    expect(builtinType(OID.boxArray)).toEqual({ kind: "array", element: { kind: "scalar", oid: 603 }, delimiter: ";" });
    expect(builtinType(OID.int4Array)).toEqual({
      kind: "array",
      element: { kind: "scalar", oid: OID.int4 },
      delimiter: ",",
    });
    expect(builtinType(OID.text)).toEqual({ kind: "scalar", oid: OID.text });
    expect(isBuiltinType(OID.int4Array)).toBe(true);
    expect(isBuiltinType(USER_TYPE)).toBe(false);
    expect(isBuiltinType(-1)).toBe(false); // OID 4294967295 as the library reads it
  });
});

describe("parseArrayLiteral", () => {
  it("parses nesting, NULL and escapes", () => {
    expect(parseArrayLiteral('{{1,NULL},{"x\\\\y",null}}')).toEqual([
      ["1", null],
      ["x\\y", null],
    ]);
  });
  it("rejects malformed text", () => {
    expect(() => parseArrayLiteral("{1,}")).toThrow();
    expect(() => parseArrayLiteral('{"a}')).toThrow();
    expect(() => parseArrayLiteral("{1}x")).toThrow();
  });
});

describe("JSON null", () => {
  it("is the literal null of a json or jsonb value, with json's own whitespace around it", () => {
    for (const text of ["null", " null", "null ", "\n\tnull\r\n ", "  null  "])
      expect(isJsonNull(text), text).toBe(true);
    for (const text of ['"null"', "[null]", '{"a":null}', "nul", "nulll", "Null", "", "  nul l", "null x"]) {
      expect(isJsonNull(text), text).toBe(false);
    }
  });

  it("can be held by json and jsonb columns and domains resolved to them", () => {
    expect(isJsonType(builtinType(OID.json))).toBe(true);
    expect(isJsonType(builtinType(OID.jsonb))).toBe(true);
    expect(isJsonType(builtinType(OID.jsonbArray))).toBe(false);
    expect(isJsonType(builtinType(OID.text))).toBe(false);
  });
});
