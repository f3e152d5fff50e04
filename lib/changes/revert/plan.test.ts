import { describe, expect, it } from "vitest";
import { arraySpans, objectSpans } from "./json-spans";
import { arrayText, valueSql, type ColumnInfo, type TableInfo } from "./literal";
import { planRevert, revertScript, revertStatement, tableKey, type RevertChange } from "./plan";

const column = (name: string, type: string, extra: Partial<ColumnInfo> = {}): ColumnInfo => ({
  name,
  type,
  json: false,
  array: false,
  elementJson: false,
  delimiter: ",",
  generated: false,
  identityAlways: false,
  ...extra,
});

const hostile: TableInfo = {
  schema: 'Sch "ema',
  table: 'we"ird tä ble ✓',
  columns: [
    column("k 1", "integer"),
    column('K"2', "text"),
    column("amount", "numeric(40,10)"),
    column("doc", "jsonb", { json: true }),
    column("twice", "integer", { generated: true }),
  ],
  key: ["k 1", 'K"2'],
};
const NAME = '"Sch ""ema"."we""ird tä ble ✓"';

const change = (values: Partial<RevertChange>): RevertChange => ({
  id: "7",
  schema: hostile.schema,
  table: hostile.table,
  primaryKey: '["1","a\'b"]',
  operation: "UPDATE",
  before: null,
  after: null,
  changedFields: null,
  unavailableFields: null,
  beforeJsonNullFields: null,
  afterJsonNullFields: null,
  ...values,
});

describe("json spans", () => {
  it("keeps each member's text as written: digits, spacing inside values, escapes", () => {
    const spans = objectSpans(
      '{"a": 123456789012345678901234.50, "b" : { "x" :  [1, "]}"] }, "c\\"d": "q\\"}", "e":null}',
    );
    expect([...spans]).toEqual([
      ["a", "123456789012345678901234.50"],
      ["b", '{ "x" :  [1, "]}"] }'],
      ['c"d', '"q\\"}"'],
      ["e", "null"],
    ]);
    expect(arraySpans("[ ]")).toEqual([]);
    expect(arraySpans('[[1,2],"a,b",null]')).toEqual(["[1,2]", '"a,b"', "null"]);
  });
});

describe("valueSql", () => {
  it("writes numbers with every digit, cast to the column's type", () => {
    expect(valueSql(column("n", "numeric"), "-12345678901234567890.1234567890", false)).toBe(
      "'-12345678901234567890.1234567890'::numeric",
    );
    expect(valueSql(column("n", "bigint"), "9223372036854775807", false)).toBe("'9223372036854775807'::bigint");
  });

  it("tells SQL NULL from JSON null", () => {
    const doc = column("doc", "jsonb", { json: true });
    expect(valueSql(doc, "null", false)).toBe("NULL::jsonb");
    expect(valueSql(doc, "null", true)).toBe("'null'::jsonb");
    expect(valueSql(doc, '{"a": "it\'s"}', false)).toBe("'{\"a\": \"it''s\"}'::jsonb");
  });

  it("writes text forms back as literals, escaping quotes and backslashes", () => {
    expect(valueSql(column("b", "bytea"), '"\\\\x00ff"', false)).toBe("E'\\\\x00ff'::bytea");
    expect(valueSql(column("t", "text"), '"it\'s \\"x\\""', false)).toBe("'it''s \"x\"'::text");
    expect(valueSql(column("f", "boolean"), "true", false)).toBe("'true'::boolean");
  });

  it("turns JSON arrays into array literals, nested arrays into dimensions, json elements into documents", () => {
    const tags = column("tags", "text[]", { array: true });
    expect(arrayText('["a,b", null, "say \\"hi\\"", "back\\\\slash", ""]', tags)).toBe(
      '{"a,b",NULL,"say \\"hi\\"","back\\\\slash",""}',
    );
    expect(arrayText("[[1,2],[3,null]]", column("g", "integer[]", { array: true }))).toBe("{{1,2},{3,NULL}}");
    const docs = column("d", "jsonb[]", { array: true, elementJson: true });
    expect(arrayText('[{"a":[1,2]}, [1]]', docs)).toBe('{"{\\"a\\":[1,2]}","[1]"}');
    const boxes = column("b", "box[]", { array: true, delimiter: ";" });
    expect(arrayText('["(1,1),(0,0)", "(2,2),(1,1)"]', boxes)).toBe('{"(1,1),(0,0)";"(2,2),(1,1)"}');
    // An array with explicit bounds has no JSON form: the image keeps its text, which goes back as is.
    expect(valueSql(column("g", "integer[]", { array: true }), '"[0:1]={1,2}"', false)).toBe(
      "'[0:1]={1,2}'::integer[]",
    );
  });
});

describe("revertStatement", () => {
  const tables = new Map([[tableKey(hostile.schema, hostile.table), hostile]]);

  it("undoes a CREATE with a DELETE by the whole key, quoting every identifier", () => {
    const after = '{"k 1":1,"K\\"2":"a\'b","amount":1.50,"doc":null,"twice":2}';
    expect(revertStatement(change({ operation: "CREATE", after }), hostile)).toEqual({
      changeId: "7",
      sql: `DELETE FROM ${NAME} WHERE "k 1" = '1'::integer AND "K""2" = 'a''b'::text;`,
    });
  });

  it("undoes a DELETE with an INSERT of the before image, generated columns left to the table", () => {
    const before = '{"k 1":1,"K\\"2":"x","amount":0.10,"doc":null,"twice":2}';
    const result = revertStatement(change({ operation: "DELETE", before, beforeJsonNullFields: ["doc"] }), hostile);
    expect(result).toEqual({
      changeId: "7",
      sql:
        `INSERT INTO ${NAME} ("k 1", "K""2", "amount", "doc") ` +
        "VALUES ('1'::integer, 'x'::text, '0.10'::numeric(40,10), 'null'::jsonb);",
    });
    const identity = { ...hostile, columns: hostile.columns.map((c) => ({ ...c, identityAlways: c.name === "k 1" })) };
    expect(revertStatement(change({ operation: "DELETE", before }), identity)).toMatchObject({
      sql: expect.stringContaining(") OVERRIDING SYSTEM VALUE VALUES ("),
    });
  });

  it("undoes an UPDATE by setting the changed columns back, found by the after image's key", () => {
    const before = '{"k 1":1,"K\\"2":"x","amount":1,"doc":{"v":1},"twice":2}';
    const after = '{"k 1":1,"K\\"2":"x","amount":2,"doc":{"v":1},"twice":2}';
    expect(revertStatement(change({ before, after, changedFields: ["amount"] }), hostile)).toEqual({
      changeId: "7",
      sql: `UPDATE ${NAME} SET "amount" = '1'::numeric(40,10) WHERE "k 1" = '1'::integer AND "K""2" = 'x'::text;`,
    });
  });

  it("says why a change cannot be reverted from the trail", () => {
    const reason = (value: ReturnType<typeof revertStatement>) => ("reason" in value ? value.reason : "statement");
    expect(reason(revertStatement(change({ operation: "TRUNCATE", primaryKey: null }), hostile))).toBe("truncate");
    expect(reason(revertStatement(change({ operation: "CREATE", after: "{}" }), null))).toBe("table_missing");
    expect(reason(revertStatement(change({ operation: "CREATE", after: "{}" }), { ...hostile, key: [] }))).toBe(
      "no_primary_key",
    );
    // REPLICA IDENTITY DEFAULT: a DELETE's before image holds the key only; an UPDATE's none at all.
    const keyOnly = change({ operation: "DELETE", before: '{"k 1":1,"K\\"2":"x"}' });
    const missing = revertStatement(keyOnly, hostile);
    expect(missing).toMatchObject({ reason: "incomplete_image", message: expect.stringContaining('"amount", "doc"') });
    expect(reason(revertStatement(change({ after: '{"k 1":1,"K\\"2":"x"}', changedFields: null }), hostile))).toBe(
      "incomplete_image",
    );
  });

  it("never writes a masked column's keyed hash back", () => {
    const hash = '"hmac:0123456789abcdef0123456789abcdef"';
    const reason = (value: ReturnType<typeof revertStatement>) => ("reason" in value ? value.reason : "statement");
    const before = `{"k 1":1,"K\\"2":"x","amount":${hash},"doc":null,"twice":2}`;
    const after = '{"k 1":1,"K\\"2":"x","amount":2,"doc":null,"twice":2}';
    const update = revertStatement(change({ before, after, changedFields: ["amount"] }), hostile);
    expect(update).toMatchObject({ reason: "masked", message: expect.stringContaining('"amount" is masked') });
    expect(reason(revertStatement(change({ operation: "DELETE", before }), hostile))).toBe("masked");
    // A masked key column: the row cannot be found by it.
    const hashedKey = `{"k 1":1,"K\\"2":${hash},"amount":2,"doc":null,"twice":2}`;
    expect(reason(revertStatement(change({ operation: "CREATE", after: hashedKey }), hostile))).toBe("masked");
    // Another column masked: reverting the change of an unmasked one is fine.
    expect(reason(revertStatement(change({ before, after: before, changedFields: ["doc"] }), hostile))).toBe(
      "statement",
    );
  });

  it("plans newest first and keeps conflicts apart from statements", () => {
    const after = '{"k 1":1,"K\\"2":"x","amount":1,"doc":null,"twice":2}';
    const plan = planRevert(
      [change({ id: "9", operation: "TRUNCATE", primaryKey: null }), change({ id: "8", operation: "CREATE", after })],
      tables,
    );
    expect(plan.statements.map((s) => s.changeId)).toEqual(["8"]);
    expect(plan.conflicts.map((c) => [c.changeId, c.reason])).toEqual([["9", "truncate"]]);
    const script = revertScript(
      "change 8\nDROP TABLE x",
      '{"retrace":"revert","of":{"changeId":"8"}}',
      plan.statements,
    );
    expect(script.split("\n")).toEqual([
      "-- Retrace: revert of change 8 DROP TABLE x (1 statement, newest first)",
      "BEGIN;",
      `SELECT pg_logical_emit_message(true, '_retrace', '{"retrace":"revert","of":{"changeId":"8"}}');`,
      "-- change 8",
      plan.statements[0]?.sql,
      "COMMIT;",
      "",
    ]);
  });
});
