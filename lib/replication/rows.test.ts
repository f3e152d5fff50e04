import type { Pgoutput } from "pg-logical-replication";
import { describe, expect, it } from "vitest";
import { MAX_CONTEXT_BYTES } from "./context";
import { TransactionBuilder, type KeyLookup } from "./rows";

// Message objects shaped like pg-logical-replication's pgoutput output with raw-text values.
const keep = (raw: unknown) => raw;
function relation(relationOid: number, name: string, cols: Array<[string, number]>): Pgoutput.MessageRelation {
  return {
    tag: "relation",
    relationOid,
    schema: "public",
    name,
    replicaIdentity: "full",
    columns: cols.map(([colName, typeOid]) => ({ name: colName, flags: 1, typeOid, typeMod: -1, typeSchema: null, typeName: null, parser: keep })),
    // With REPLICA IDENTITY FULL every column is flagged as key: the builder must not use this.
    keyColumns: cols.map(([colName]) => colName),
  };
}
const tuple = (values: Record<string, string | null | undefined>) => Object.assign(Object.create(null) as Record<string, unknown>, values);

const items = relation(1, "items", [["id", 20], ["name", 25], ["amount", 1700], ["doc", 3802]]);
const pairs = relation(2, "pairs", [["a", 23], ["b", 25], ["v", 25]]);
const logs = relation(3, "logs", [["line", 25]]);
const keys: KeyLookup = (oid) => ({ 1: ["id"], 2: ["a", "b"], 3: [] } as Record<number, string[]>)[oid];

// 2024-01-02T03:04:05.123456Z in the library's representation (µs since the Unix epoch).
const COMMIT_TIME = BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1000n + 123456n;
const begin: Pgoutput.MessageBegin = { tag: "begin", commitLsn: "00000000/0177A428", commitTime: COMMIT_TIME, xid: -2 };
const commit: Pgoutput.MessageCommit = {
  tag: "commit", flags: 0, commitLsn: "00000000/0177A428", commitEndLsn: "00000000/0177A458", commitTime: COMMIT_TIME,
};
const message = (prefix: string, content: string | Uint8Array, transactional = true): Pgoutput.MessageMessage => ({
  tag: "message", flags: transactional ? 1 : 0, transactional, messageLsn: "0/1", prefix,
  content: typeof content === "string" ? Buffer.from(content, "utf8") : content,
});

function builder() {
  return new TransactionBuilder({ environment: "production", database: "shop" }, { keys }, () => COMMIT_TIME + 1n);
}

function run(messages: Array<Parameters<TransactionBuilder["add"]>[0]>) {
  const b = builder();
  b.begin(begin);
  for (const m of messages) b.add(m);
  return b.commit(commit);
}

describe("TransactionBuilder", () => {
  it("builds a CREATE with exact values and transaction metadata", () => {
    const tx = run([{ tag: "insert", relation: items, new: tuple({ id: "9223372036854775807", name: 'a "b"', amount: "1234567890123456789012345678901234567890.5", doc: '{"k": [1]}' }) }]);
    expect(tx.commitLsn).toBe("0/177A428");
    expect(tx.commitEndLsn).toBe("0/177A458");
    expect(tx.transactionId).toBe("4294967294");
    expect(tx.rows).toEqual([
      {
        environment: "production", database: "shop", schema: "public", table: "items",
        primaryKey: "9223372036854775807", operation: "CREATE", before: null,
        after: '{"id":9223372036854775807,"name":"a \\"b\\"","amount":1234567890123456789012345678901234567890.5,"doc":{"k": [1]}}',
        changedFields: null, unavailableFields: [], context: "{}", transactionId: "4294967294",
        commitLsn: "0/177A428", seq: 0, committedAt: "2024-01-02T03:04:05.123456Z", queuedAt: "2024-01-02T03:04:05.123457Z",
      },
    ]);
  });

  it("builds UPDATE before/after and changed fields from the old tuple", () => {
    const old = tuple({ id: "1", name: "x", amount: "1.50", doc: null });
    const tx = run([{ tag: "update", relation: items, key: null, old, new: tuple({ id: "1", name: "y", amount: "1.50", doc: "{}" }) }]);
    const [row] = tx.rows;
    expect(row?.operation).toBe("UPDATE");
    expect(row?.before).toBe('{"id":1,"name":"x","amount":1.50,"doc":null}');
    expect(row?.after).toBe('{"id":1,"name":"y","amount":1.50,"doc":{}}');
    expect(row?.changedFields).toEqual(["name", "doc"]);
    expect(row?.primaryKey).toBe("1");
  });

  it("omits and lists an unchanged TOAST value that has no old tuple", () => {
    const tx = run([{ tag: "update", relation: items, key: null, old: null, new: tuple({ id: "1", name: "y", amount: null, doc: undefined }) }]);
    const [row] = tx.rows;
    expect(row?.after).toBe('{"id":1,"name":"y","amount":null}');
    expect(row?.unavailableFields).toEqual(["doc"]);
    expect(row?.before).toBeNull();
    expect(row?.changedFields).toBeNull();
    expect(tx.notices).toEqual([{ kind: "unavailable", schema: "public", table: "items", columns: ["doc"] }]);
  });

  it("builds DELETE from the old tuple, or from the key alone", () => {
    const full = run([{ tag: "delete", relation: items, key: null, old: tuple({ id: "5", name: "z", amount: "NaN", doc: "[]" }) }]);
    expect(full.rows[0]).toMatchObject({ operation: "DELETE", primaryKey: "5", before: '{"id":5,"name":"z","amount":"NaN","doc":[]}', after: null });
    const keyOnly = run([{ tag: "delete", relation: items, key: tuple({ id: "6" }), old: null }]);
    expect(keyOnly.rows[0]).toMatchObject({ primaryKey: "6", before: '{"id":6}', after: null });
  });

  it("emits one TRUNCATE per relation with consecutive seq", () => {
    const tx = run([
      { tag: "insert", relation: logs, new: tuple({ line: "l" }) },
      { tag: "truncate", cascade: false, restartIdentity: false, relations: [items, pairs] },
    ]);
    expect(tx.rows.map((r) => [r.operation, r.table, r.seq, r.before, r.after])).toEqual([
      ["CREATE", "logs", 0, null, '{"line":"l"}'],
      ["TRUNCATE", "items", 1, null, null],
      ["TRUNCATE", "pairs", 2, null, null],
    ]);
  });

  it("uses catalog keys: composite as a JSON array, none as null", () => {
    const tx = run([
      { tag: "insert", relation: pairs, new: tuple({ a: "1", b: 'x"y', v: "v" }) },
      { tag: "insert", relation: logs, new: tuple({ line: "l" }) },
    ]);
    expect(tx.rows[0]?.primaryKey).toBe('["1","x\\"y"]');
    expect(tx.rows[1]?.primaryKey).toBeNull();
  });

  it("refuses a relation whose key was not loaded", () => {
    const unknown = relation(9, "unknown", [["id", 23]]);
    expect(() => run([{ tag: "insert", relation: unknown, new: tuple({ id: "1" }) }])).toThrow(/not loaded/);
  });

  it("stitches context onto the changes after each context message", () => {
    const tx = run([
      { tag: "insert", relation: logs, new: tuple({ line: "before any context" }) },
      message("_bemi", '{"user":"a","id":12345678901234567890123}'),
      { tag: "insert", relation: logs, new: tuple({ line: "1" }) },
      message("other", '{"ignored":true}'),
      message("_retrace", '{"user":"b"}', false),
      { tag: "insert", relation: logs, new: tuple({ line: "2" }) },
      message("_retrace", '{"user":"b"}'),
      { tag: "insert", relation: logs, new: tuple({ line: "3" }) },
    ]);
    expect(tx.rows.map((r) => r.context)).toEqual([
      "{}",
      '{"user":"a","id":12345678901234567890123}',
      '{"user":"a","id":12345678901234567890123}',
      '{"user":"b"}',
    ]);
    expect(tx.notices).toEqual([]);
  });

  it("starts each transaction without context", () => {
    const b = builder();
    b.begin(begin);
    b.add(message("_bemi", '{"user":"a"}'));
    b.commit(commit);
    b.begin(begin);
    b.add({ tag: "insert", relation: logs, new: tuple({ line: "x" }) });
    expect(b.commit(commit).rows[0]?.context).toBe("{}");
  });

  it("ignores malformed, non-object and oversized context, never failing", () => {
    const big = `{"pad":"${"x".repeat(MAX_CONTEXT_BYTES)}"}`;
    const tx = run([
      message("_bemi", '{"user":"a"}'),
      message("_bemi", "{not json"),
      { tag: "insert", relation: logs, new: tuple({ line: "1" }) },
      message("_bemi", "[1,2]"),
      { tag: "insert", relation: logs, new: tuple({ line: "2" }) },
      message("_bemi", big),
      { tag: "insert", relation: logs, new: tuple({ line: "3" }) },
      message("_bemi", '{"a":"\\u0000"}'),
      message("_bemi", new Uint8Array([0x7b, 0xff, 0x7d])),
    ]);
    expect(tx.rows.map((r) => r.context)).toEqual(["{}", "{}", "{}"]);
    expect(tx.notices.map((n) => n.kind === "context-ignored" && n.reason)).toEqual([
      "context is not valid UTF-8 JSON",
      "context is not a JSON object",
      `context is ${big.length} bytes, over the ${MAX_CONTEXT_BYTES}-byte limit`,
      "context contains a NUL character",
      "context is not valid UTF-8 JSON",
    ]);
  });

  it("enforces transaction framing", () => {
    const b = builder();
    expect(() => b.add({ tag: "insert", relation: logs, new: tuple({ line: "x" }) })).toThrow();
    b.begin(begin);
    expect(() => b.begin(begin)).toThrow();
    expect(() => b.commit({ ...commit, commitLsn: "0/1" })).toThrow(/does not match/);
  });

  it("hands a transaction over in batches: seq counts across them, commit returns the rest", () => {
    const b = builder();
    b.begin(begin);
    expect(b.openCommittedAt).toBe("2024-01-02T03:04:05.123456Z");
    b.add(message("_bemi", '{"user":"a"}'));
    b.add({ tag: "insert", relation: logs, new: tuple({ line: "0" }) });
    b.add({ tag: "update", relation: items, key: null, old: null, new: tuple({ id: "1", name: "y", amount: null, doc: undefined }) });
    expect(b.pendingRows).toBe(2);
    expect(b.pendingBytes).toBeGreaterThan('{"line":"0"}'.length);
    const first = b.takeBatch();
    expect(first.rows.map((r) => r.seq)).toEqual([0, 1]);
    expect(first.notices).toEqual([{ kind: "unavailable", schema: "public", table: "items", columns: ["doc"] }]);
    expect([b.pendingRows, b.pendingBytes, b.isOpen]).toEqual([0, 0, true]);
    expect(b.takeBatch().rows).toEqual([]);
    b.add({ tag: "insert", relation: logs, new: tuple({ line: "2" }) });
    const rest = b.commit(commit);
    expect(rest.rows.map((r) => [r.seq, r.context, r.commitLsn])).toEqual([[2, '{"user":"a"}', "0/177A428"]]);
    expect(rest.notices).toEqual([]);
    expect(rest.rowCount).toBe(3);
    expect(b.openCommittedAt).toBeNull();
    expect(() => b.takeBatch()).toThrow(/No open transaction/);
  });

  it("ignores non-transactional messages, inside or outside a transaction", () => {
    const b = builder();
    b.add(message("_retrace_heartbeat", "2024-01-02T03:04:05.000000Z", false));
    b.add(message("_retrace", '{"user":"outside"}', false));
    expect(b.isOpen).toBe(false);
    expect(run([message("_retrace", '{"user":"b"}', false), { tag: "insert", relation: logs, new: tuple({ line: "x" }) }]).rows[0]?.context).toBe("{}");
  });

  it("refuses values the library converted", () => {
    const b = builder();
    b.begin(begin);
    expect(() => b.add({ tag: "insert", relation: logs, new: { line: new Date() } })).toThrow(/not delivered as text/);
  });
});
