import type { Pgoutput } from "pg-logical-replication";
import { describe, expect, it } from "vitest";
import { columnMaskKey, valueMasker } from "../crypto/mask";
import { ColumnRuleSet, columnRulesSchema, type ColumnRules } from "../sources/column-rules";
import type { RowValues } from "./plugin";
import { TransactionBuilder } from "./rows";

const keep = (raw: unknown) => raw;
function relation(relationOid: number, schema: string, name: string, cols: string[]): Pgoutput.MessageRelation {
  return {
    tag: "relation",
    relationOid,
    schema,
    name,
    replicaIdentity: "full",
    columns: cols.map((colName) => ({
      name: colName,
      flags: 1,
      typeOid: 25,
      typeMod: -1,
      typeSchema: null,
      typeName: null,
      parser: keep,
    })),
    keyColumns: cols,
  };
}

const users = relation(1, "public", "users", ["id", "email", "password", "updated_at"]);
const cards = relation(2, "billing", "cards", ["number", "holder", "updated_at"]);
const keys = (oid: number) => (oid === 1 ? ["id"] : oid === 2 ? ["number"] : undefined);
const mask = valueMasker(columnMaskKey("unit-test-secret"));
const begin = { tag: "begin" as const, commitLsn: "0/10", commitTime: 1_700_000_000_000_000, xid: 7 };
const commit = { tag: "commit" as const, flags: 0, commitLsn: "0/10", commitEndLsn: "0/20", commitTime: 0 };

function build(rules: ColumnRules | null, messages: Array<Parameters<TransactionBuilder["add"]>[0]>) {
  const b = new TransactionBuilder(
    {
      environment: "test",
      database: "app",
      columnRules: rules ? { set: new ColumnRuleSet(rules), mask } : null,
    },
    { keys },
    () => 1,
  );
  b.begin(begin);
  for (const m of messages) b.add(m);
  return b.commit(commit).rows;
}

const row = (...values: Array<string | null>): RowValues => values;

describe("column rules", () => {
  it("parse patterns with two or three parts and refuse others, naming the pattern", () => {
    expect(columnRulesSchema.parse({ rules: [{ pattern: " *.updated_at ", action: "exclude" }] })).toEqual({
      rules: [{ pattern: "*.updated_at", action: "exclude" }],
      skipExcludedOnlyUpdates: false,
    });
    const bad = columnRulesSchema.safeParse({ rules: [{ pattern: "updated_at", action: "exclude" }] });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toContain('"updated_at" is not a column pattern');
    expect(columnRulesSchema.safeParse({ rules: [{ pattern: "a.b.c", action: "drop" }] }).success).toBe(false);
  });

  it("match across schemas with * and let exclude win over mask", () => {
    const set = new ColumnRuleSet({
      rules: [
        { pattern: "*.updated_at", action: "exclude" },
        { pattern: "public.users.*", action: "mask" },
        { pattern: "billing.*.number", action: "mask" },
      ],
      skipExcludedOnlyUpdates: false,
    });
    expect(set.forTable("public", "users", ["id", "updated_at"])).toEqual(
      new Map([
        ["id", "mask"],
        ["updated_at", "exclude"],
      ]),
    );
    expect(set.forTable("billing", "cards", ["number", "holder", "updated_at"])).toEqual(
      new Map([
        ["number", "mask"],
        ["updated_at", "exclude"],
      ]),
    );
    expect(set.forTable("other", "t", ["x"])).toBeNull();
  });

  it("leave excluded columns out of every image and store masked ones as a keyed hash", () => {
    const rules: ColumnRules = {
      rules: [
        { pattern: "*.updated_at", action: "exclude" },
        { pattern: "public.users.password", action: "mask" },
      ],
      skipExcludedOnlyUpdates: false,
    };
    const [created, updated] = build(rules, [
      { tag: "insert", relation: users, new: row("1", "a@x", "hunter2", "2024-01-01") },
      {
        tag: "update",
        relation: users,
        key: null,
        old: row("1", "a@x", "hunter2", "2024-01-01"),
        new: row("1", "a@x", "hunter3", "2024-01-02"),
      },
    ]);
    expect(created?.after).toBe(`{"id":"1","email":"a@x","password":"${mask("hunter2")}"}`);
    expect(created?.after).not.toContain("2024-01-01");
    expect(mask("hunter2")).toMatch(/^hmac:[0-9a-f]{32}$/);
    expect(mask("hunter2")).not.toBe(mask("hunter3"));
    expect(updated?.changedFields).toEqual(["password"]);
    expect(updated?.before).toContain(mask("hunter2"));
    expect(updated?.after).toContain(mask("hunter3"));
    expect(`${updated?.before}${updated?.after}`).not.toContain("updated_at");
  });

  it("skip an update that changed only excluded columns when asked, and record it otherwise", () => {
    const touch = {
      tag: "update" as const,
      relation: users,
      key: null,
      old: row("1", "a@x", "p", "2024-01-01"),
      new: row("1", "a@x", "p", "2024-01-02"),
    };
    const noop = { ...touch, new: row("1", "a@x", "p", "2024-01-01") };
    const excluded = { pattern: "*.updated_at", action: "exclude" as const };
    expect(build({ rules: [excluded], skipExcludedOnlyUpdates: true }, [touch])).toHaveLength(0);
    // An update that changed nothing at all is not an excluded-only one.
    expect(build({ rules: [excluded], skipExcludedOnlyUpdates: true }, [noop])).toHaveLength(1);
    const kept = build({ rules: [excluded], skipExcludedOnlyUpdates: false }, [touch]);
    expect(kept).toHaveLength(1);
    expect(kept[0]?.changedFields).toEqual([]);
    // Without a whole before image it cannot be told: recorded.
    const keyOnly = { ...touch, old: null, key: row("1", null, null, null) };
    expect(build({ rules: [excluded], skipExcludedOnlyUpdates: true }, [keyOnly])).toHaveLength(1);
  });

  it("hash a masked or excluded key column in the primary key, the same for every change of the row", () => {
    const rules: ColumnRules = {
      rules: [{ pattern: "billing.cards.number", action: "exclude" }],
      skipExcludedOnlyUpdates: false,
    };
    const [created, deleted] = build(rules, [
      { tag: "insert", relation: cards, new: row("4111", "Ann", "t") },
      { tag: "delete", relation: cards, key: null, old: row("4111", "Ann", "t") },
    ]);
    expect(created?.primaryKey).toBe(mask("4111"));
    expect(deleted?.primaryKey).toBe(mask("4111"));
    expect(created?.after).toBe('{"holder":"Ann","updated_at":"t"}');
  });

  it("change nothing without rules", () => {
    const [created] = build(null, [{ tag: "insert", relation: users, new: row("1", "a@x", "p", "t") }]);
    expect(created?.after).toBe('{"id":"1","email":"a@x","password":"p","updated_at":"t"}');
    expect(created?.primaryKey).toBe("1");
  });
});
