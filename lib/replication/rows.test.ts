import type { Pgoutput } from "pg-logical-replication";
import { describe, expect, it } from "vitest";
import { MAX_CONTEXT_BYTES } from "./context";
import type { ValueType } from "./decode";
import type { RowValues, TransactionBegin, TransactionCommit } from "./plugin";
import type { KeyLookup } from "./lookups";
import { TransactionBuilder } from "./rows";

// Message objects shaped like pg-logical-replication's pgoutput output with raw-text values.
const keep = (raw: unknown) => raw;
function relation(relationOid: number, name: string, cols: Array<[string, number]>): Pgoutput.MessageRelation {
  return {
    tag: "relation",
    relationOid,
    schema: "public",
    name,
    replicaIdentity: "full",
    columns: cols.map(([colName, typeOid]) => ({
      name: colName,
      flags: 1,
      typeOid,
      typeMod: -1,
      typeSchema: null,
      typeName: null,
      parser: keep,
    })),
    // With REPLICA IDENTITY FULL every column is flagged as key: the builder must not use this.
    keyColumns: cols.map(([colName]) => colName),
  };
}
// Values by column position, as the raw-text plugin delivers them; a column left out is undefined.
const tuple = (rel: Pgoutput.MessageRelation, values: Record<string, string | null | undefined>): RowValues =>
  rel.columns.map((column) => (Object.hasOwn(values, column.name) ? values[column.name] : undefined));

const items = relation(1, "items", [
  ["id", 20],
  ["name", 25],
  ["amount", 1700],
  ["doc", 3802],
]);
const pairs = relation(2, "pairs", [
  ["a", 23],
  ["b", 25],
  ["v", 25],
]);
const logs = relation(3, "logs", [["line", 25]]);
const keys: KeyLookup = (oid) => (({ 1: ["id"], 2: ["a", "b"], 3: [] }) as Record<number, string[]>)[oid];

// 2024-01-02T03:04:05.123456Z in µs since the Unix epoch (as the plugin parses BEGIN and COMMIT).
const COMMIT_TIME = Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 123456;
// Zero-padded LSNs (what the library prints) are normalised too.
const begin: TransactionBegin = { tag: "begin", commitLsn: "00000000/0177A428", commitTime: COMMIT_TIME, xid: -2 };
const commit: TransactionCommit = {
  tag: "commit",
  flags: 0,
  commitLsn: "00000000/0177A428",
  commitEndLsn: "00000000/0177A458",
  commitTime: COMMIT_TIME,
};
const message = (prefix: string, content: string | Uint8Array, transactional = true): Pgoutput.MessageMessage => ({
  tag: "message",
  flags: transactional ? 1 : 0,
  transactional,
  messageLsn: "0/1",
  prefix,
  content: typeof content === "string" ? Buffer.from(content, "utf8") : content,
});

function builder() {
  return new TransactionBuilder({ environment: "production", database: "shop" }, { keys }, () => COMMIT_TIME + 1);
}

function run(messages: Array<Parameters<TransactionBuilder["add"]>[0]>) {
  const b = builder();
  b.begin(begin);
  for (const m of messages) b.add(m);
  return b.commit(commit);
}

describe("TransactionBuilder", () => {
  it("builds a CREATE with exact values and transaction metadata", () => {
    const tx = run([
      {
        tag: "insert",
        relation: items,
        new: tuple(items, {
          id: "9223372036854775807",
          name: 'a "b"',
          amount: "1234567890123456789012345678901234567890.5",
          doc: '{"k": [1]}',
        }),
      },
    ]);
    expect(tx.commitLsn).toBe("0/177A428");
    expect(tx.commitEndLsn).toBe("0/177A458");
    expect(tx.transactionId).toBe("4294967294");
    expect(tx.rows).toEqual([
      {
        environment: "production",
        database: "shop",
        schema: "public",
        table: "items",
        primaryKey: "9223372036854775807",
        operation: "CREATE",
        before: null,
        after:
          '{"id":9223372036854775807,"name":"a \\"b\\"",' +
          '"amount":1234567890123456789012345678901234567890.5,"doc":{"k": [1]}}',
        changedFields: null,
        unavailableFields: [],
        beforeJsonNullFields: null,
        afterJsonNullFields: null,
        partitionSchema: null,
        partitionTable: null,
        bucket: "",
        context: "{}",
        transactionId: "4294967294",
        commitLsn: "0/177A428",
        seq: 0,
        committedAt: "2024-01-02T03:04:05.123456Z",
        queuedAt: "2024-01-02T03:04:05.123457Z",
      },
    ]);
  });

  it("builds UPDATE before/after and changed fields from the old tuple", () => {
    const old = tuple(items, { id: "1", name: "x", amount: "1.50", doc: null });
    const tx = run([
      {
        tag: "update",
        relation: items,
        key: null,
        old,
        new: tuple(items, { id: "1", name: "y", amount: "1.50", doc: "{}" }),
      },
    ]);
    const [row] = tx.rows;
    expect(row?.operation).toBe("UPDATE");
    expect(row?.before).toBe('{"id":1,"name":"x","amount":1.50,"doc":null}');
    expect(row?.after).toBe('{"id":1,"name":"y","amount":1.50,"doc":{}}');
    expect(row?.changedFields).toEqual(["name", "doc"]);
    expect(row?.primaryKey).toBe("1");
  });

  it("lists the json and jsonb columns whose value is JSON null, per image, apart from SQL NULL", () => {
    const docs = relation(6, "docs", [
      ["id", 23],
      ["j", 114],
      ["jb", 3802],
      ["dom", 90_001], // a domain over jsonb
      ["t", 25],
      ["ajb", 3807], // jsonb[]: its elements are not listed
    ]);
    const b = new TransactionBuilder(
      { environment: "production", database: "shop" },
      { keys: () => ["id"], types: (oid) => (oid === 90_001 ? { kind: "scalar", oid: 3802 } : undefined) },
      () => 0,
    );
    const jsonNull = tuple(docs, { id: "1", j: " \n null\t", jb: "null", dom: "null", t: "null", ajb: '{"null"}' });
    const sqlNull = tuple(docs, { id: "1", j: null, jb: null, dom: null, t: null, ajb: null });
    const mixed = tuple(docs, { id: "1", j: '"null"', jb: null, dom: "{}", t: null, ajb: null });
    b.begin(begin);
    b.add({ tag: "insert", relation: docs, new: jsonNull });
    b.add({ tag: "update", relation: docs, key: null, old: jsonNull, new: sqlNull });
    b.add({ tag: "update", relation: docs, key: null, old: sqlNull, new: mixed });
    b.add({ tag: "delete", relation: docs, key: null, old: jsonNull });
    const rows = b.commit(commit).rows;
    expect(rows.map((r) => [r.operation, r.beforeJsonNullFields, r.afterJsonNullFields])).toEqual([
      ["CREATE", null, ["j", "jb", "dom"]],
      ["UPDATE", ["j", "jb", "dom"], null],
      ["UPDATE", null, null],
      ["DELETE", ["j", "jb", "dom"], null],
    ]);
    // The images read the same either way; the lists tell them apart.
    expect(rows[0]?.after).toBe('{"id":1,"j": \n null\t,"jb":null,"dom":null,"t":"null","ajb":[null]}');
    expect(rows[1]?.after).toBe('{"id":1,"j":null,"jb":null,"dom":null,"t":null,"ajb":null}');
    expect(rows[1]?.changedFields).toEqual(["j", "jb", "dom", "t", "ajb"]);
    expect(rows[2]?.after).toBe('{"id":1,"j":"null","jb":null,"dom":{},"t":null,"ajb":null}');
  });

  it("lists generated columns the relation does not send as unavailable in every row, noticed once", () => {
    // The source publishes `total` (stored) but not `area` (virtual, or PostgreSQL before 18).
    const boxes = relation(7, "boxes", [
      ["id", 23],
      ["w", 23],
      ["total", 23],
      ["note", 25],
    ]);
    const b = new TransactionBuilder(
      { environment: "production", database: "shop" },
      { keys: () => ["id"], shapes: () => ({ generatedColumns: ["total", "area"], root: null }) },
      () => 0,
    );
    b.begin(begin);
    b.add({ tag: "insert", relation: boxes, new: ["1", "2", "4", "n"] });
    b.add({ tag: "update", relation: boxes, key: null, old: null, new: ["1", "3", "6", undefined] });
    b.add({ tag: "delete", relation: boxes, key: null, old: ["1", "3", "6", "n"] });
    const tx = b.commit(commit);
    expect(tx.rows.map((r) => [r.operation, r.after ?? r.before, r.unavailableFields])).toEqual([
      ["CREATE", '{"id":1,"w":2,"total":4,"note":"n"}', ["area"]],
      ["UPDATE", '{"id":1,"w":3,"total":6}', ["note", "area"]],
      ["DELETE", '{"id":1,"w":3,"total":6,"note":"n"}', ["area"]],
    ]);
    expect(tx.notices).toEqual([
      { kind: "generated-unpublished", schema: "public", table: "boxes", columns: ["area"] },
      { kind: "unavailable", schema: "public", table: "boxes", columns: ["note"] },
    ]);
  });

  it("omits and lists an unchanged TOAST value that has no old tuple", () => {
    const tx = run([
      {
        tag: "update",
        relation: items,
        key: null,
        old: null,
        new: tuple(items, { id: "1", name: "y", amount: null, doc: undefined }),
      },
    ]);
    const [row] = tx.rows;
    expect(row?.after).toBe('{"id":1,"name":"y","amount":null}');
    expect(row?.unavailableFields).toEqual(["doc"]);
    expect(row?.before).toBeNull();
    expect(row?.changedFields).toBeNull();
    expect(tx.notices).toEqual([{ kind: "unavailable", schema: "public", table: "items", columns: ["doc"] }]);
  });

  it("builds DELETE from the old tuple, or from the key alone", () => {
    const full = run([
      {
        tag: "delete",
        relation: items,
        key: null,
        old: tuple(items, { id: "5", name: "z", amount: "NaN", doc: "[]" }),
      },
    ]);
    expect(full.rows[0]).toMatchObject({
      operation: "DELETE",
      primaryKey: "5",
      before: '{"id":5,"name":"z","amount":"NaN","doc":[]}',
      after: null,
    });
    const keyOnly = run([{ tag: "delete", relation: items, key: tuple(items, { id: "6" }), old: null }]);
    expect(keyOnly.rows[0]).toMatchObject({ primaryKey: "6", before: '{"id":6}', after: null });
  });

  it("emits one TRUNCATE per relation with consecutive seq", () => {
    const tx = run([
      { tag: "insert", relation: logs, new: tuple(logs, { line: "l" }) },
      { tag: "truncate", cascade: false, restartIdentity: false, relations: [items, pairs] },
    ]);
    expect(tx.rows.map((r) => [r.operation, r.table, r.seq, r.before, r.after])).toEqual([
      ["CREATE", "logs", 0, null, '{"line":"l"}'],
      ["TRUNCATE", "items", 1, null, null],
      ["TRUNCATE", "pairs", 2, null, null],
    ]);
  });

  it("records a partition's rows as its root, in the root's column order, and its TRUNCATE naming it", () => {
    // Published as partitions: `m_2025` has the root's columns in another order.
    const m2024 = {
      ...relation(10, "m_2024", [
        ["id", 23],
        ["at", 1082],
        ["v", 23],
      ]),
      schema: "arch",
    };
    const m2025 = relation(11, "m_2025", [
      ["v", 23],
      ["at", 1082],
      ["id", 23],
    ]);
    const root = { schema: "public", table: "m", columns: ["id", "at", "v"] };
    const b = new TransactionBuilder(
      // public.m has a retention rule of its own: its rows (recorded as the root's) go to its bucket.
      { environment: "production", database: "shop", bucketTables: new Set(["public.m"]) },
      {
        keys: () => ["id", "at"],
        shapes: (oid) => ({ generatedColumns: [], root: oid === 10 || oid === 11 ? root : null }),
      },
      () => 0,
    );
    b.begin(begin);
    b.add({ tag: "insert", relation: m2024, new: ["1", "2024-01-01", "10"] });
    b.add({
      tag: "update",
      relation: m2025,
      key: null,
      old: ["20", "2025-01-01", "2"],
      new: ["21", "2025-01-01", "2"],
    });
    b.add({ tag: "truncate", cascade: false, restartIdentity: false, relations: [m2024, m2025, logs] });
    const rows = b.commit(commit).rows;
    expect(rows.map((r) => [r.operation, `${r.schema}.${r.table}`, r.primaryKey, r.before, r.after])).toEqual([
      ["CREATE", "public.m", '["1","2024-01-01"]', null, '{"id":1,"at":"2024-01-01","v":10}'],
      [
        "UPDATE",
        "public.m",
        '["2","2025-01-01"]',
        '{"id":2,"at":"2025-01-01","v":20}',
        '{"id":2,"at":"2025-01-01","v":21}',
      ],
      ["TRUNCATE", "public.m", null, null, null],
      ["TRUNCATE", "public.m", null, null, null],
      ["TRUNCATE", "public.logs", null, null, null],
    ]);
    expect(rows[1]?.changedFields).toEqual(["v"]);
    expect(rows.map((r) => [r.partitionSchema, r.partitionTable])).toEqual([
      [null, null],
      [null, null],
      ["arch", "m_2024"],
      ["public", "m_2025"],
      [null, null],
    ]);
    expect(rows.map((r) => r.bucket)).toEqual(["public.m", "public.m", "public.m", "public.m", ""]);
  });

  it("uses catalog keys: composite as a JSON array, none as null", () => {
    const tx = run([
      { tag: "insert", relation: pairs, new: tuple(pairs, { a: "1", b: 'x"y', v: "v" }) },
      { tag: "insert", relation: logs, new: tuple(logs, { line: "l" }) },
    ]);
    expect(tx.rows[0]?.primaryKey).toBe('["1","x\\"y"]');
    expect(tx.rows[1]?.primaryKey).toBeNull();
  });

  it("keeps columns called __proto__ or constructor", () => {
    const odd = relation(4, "odd", [
      ["__proto__", 23],
      ["constructor", 25],
      ["toString", 3802],
    ]);
    const tx = new TransactionBuilder(
      { environment: "production", database: "shop" },
      { keys: () => ["__proto__", "constructor"] },
      () => 0,
    );
    tx.begin(begin);
    tx.add({ tag: "insert", relation: odd, new: ["1", "c", null] });
    const [row] = tx.commit(commit).rows;
    expect(row?.after).toBe('{"__proto__":1,"constructor":"c","toString":null}');
    expect(JSON.parse(row?.after ?? "")).toEqual(JSON.parse('{"__proto__":1,"constructor":"c","toString":null}'));
    expect(row?.primaryKey).toBe('["1","c"]');
  });

  it("takes keys and types afresh from each relation message", () => {
    const keyed = new Map<number, string[]>();
    const types = new Map<number, ValueType>();
    const b = new TransactionBuilder(
      { environment: "production", database: "shop" },
      { keys: (oid) => keyed.get(oid), types: (oid) => types.get(oid) },
      () => 0,
    );
    const first = relation(5, "t", [
      ["a", 23],
      ["b", 90_000],
    ]);
    b.begin(begin);
    // Not loaded yet: refused, and the refusal is not remembered.
    expect(() => b.add({ tag: "insert", relation: first, new: ["1", "{1,2}"] })).toThrow(/not loaded/);
    keyed.set(5, ["a"]);
    types.set(90_000, { kind: "array", element: { kind: "scalar", oid: 23 }, delimiter: "," });
    b.add({ tag: "insert", relation: first, new: ["1", "{1,2}"] });
    // After DDL the server sends a new relation message (a new object): new columns, key, types.
    const second = relation(5, "t", [
      ["a", 23],
      ["b", 90_000],
      ["c", 25],
    ]);
    keyed.set(5, ["c"]);
    types.set(90_000, { kind: "scalar", oid: 25 });
    b.add({ tag: "insert", relation: second, new: ["2", "{3}", "k"] });
    expect(b.commit(commit).rows.map((r) => [r.primaryKey, r.after])).toEqual([
      ["1", '{"a":1,"b":[1,2]}'],
      ["k", '{"a":2,"b":"{3}","c":"k"}'],
    ]);
  });

  it("omits values past the end of a short tuple and lists them as unavailable", () => {
    const tx = run([{ tag: "update", relation: pairs, key: null, old: null, new: ["1", "x"] }]);
    expect(tx.rows[0]).toMatchObject({ after: '{"a":1,"b":"x"}', unavailableFields: ["v"], primaryKey: '["1","x"]' });
  });

  it("refuses a relation whose key was not loaded", () => {
    const unknown = relation(9, "unknown", [["id", 23]]);
    expect(() => run([{ tag: "insert", relation: unknown, new: tuple(unknown, { id: "1" }) }])).toThrow(/not loaded/);
  });

  it("stitches context onto the changes after each context message", () => {
    const tx = run([
      { tag: "insert", relation: logs, new: tuple(logs, { line: "before any context" }) },
      message("_retrace", '{"user":"a","id":12345678901234567890123}'),
      { tag: "insert", relation: logs, new: tuple(logs, { line: "1" }) },
      message("other", '{"ignored":true}'),
      message("_retrace", '{"user":"b"}', false),
      { tag: "insert", relation: logs, new: tuple(logs, { line: "2" }) },
      message("_retrace", '{"user":"b"}'),
      { tag: "insert", relation: logs, new: tuple(logs, { line: "3" }) },
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
    b.add(message("_retrace", '{"user":"a"}'));
    b.commit(commit);
    b.begin(begin);
    b.add({ tag: "insert", relation: logs, new: tuple(logs, { line: "x" }) });
    expect(b.commit(commit).rows[0]?.context).toBe("{}");
  });

  it("ignores malformed, non-object and oversized context, never failing", () => {
    const big = `{"pad":"${"x".repeat(MAX_CONTEXT_BYTES)}"}`;
    const tx = run([
      message("_retrace", '{"user":"a"}'),
      message("_retrace", "{not json"),
      { tag: "insert", relation: logs, new: tuple(logs, { line: "1" }) },
      message("_retrace", "[1,2]"),
      { tag: "insert", relation: logs, new: tuple(logs, { line: "2" }) },
      message("_retrace", big),
      { tag: "insert", relation: logs, new: tuple(logs, { line: "3" }) },
      message("_retrace", '{"a":"\\u0000"}'),
      message("_retrace", new Uint8Array([0x7b, 0xff, 0x7d])),
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
    expect(() => b.add({ tag: "insert", relation: logs, new: tuple(logs, { line: "x" }) })).toThrow();
    b.begin(begin);
    expect(() => b.begin(begin)).toThrow();
    expect(() => b.commit({ ...commit, commitLsn: "0/1" })).toThrow(/does not match/);
  });

  it("hands a transaction over in batches: seq counts across them, commit returns the rest", () => {
    const b = builder();
    b.begin(begin);
    expect(b.openCommittedAt).toBe("2024-01-02T03:04:05.123456Z");
    b.add(message("_retrace", '{"user":"a"}'));
    b.add({ tag: "insert", relation: logs, new: tuple(logs, { line: "0" }) });
    b.add({
      tag: "update",
      relation: items,
      key: null,
      old: null,
      new: tuple(items, { id: "1", name: "y", amount: null, doc: undefined }),
    });
    expect(b.pendingRows).toBe(2);
    expect(b.pendingBytes).toBeGreaterThan('{"line":"0"}'.length);
    const first = b.takeBatch();
    expect(first.rows.map((r) => r.seq)).toEqual([0, 1]);
    expect(first.notices).toEqual([{ kind: "unavailable", schema: "public", table: "items", columns: ["doc"] }]);
    expect([b.pendingRows, b.pendingBytes, b.isOpen]).toEqual([0, 0, true]);
    expect(b.takeBatch().rows).toEqual([]);
    b.add({ tag: "insert", relation: logs, new: tuple(logs, { line: "2" }) });
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
    expect(
      run([
        message("_retrace", '{"user":"b"}', false),
        { tag: "insert", relation: logs, new: tuple(logs, { line: "x" }) },
      ]).rows[0]?.context,
    ).toBe("{}");
  });

  it("refuses values the library converted", () => {
    const b = builder();
    b.begin(begin);
    // The library's own tuples: objects keyed by column name, of converted values.
    const converted = { line: new Date() } as unknown as RowValues;
    expect(() => b.add({ tag: "insert", relation: logs, new: converted })).toThrow(/not delivered as text/);
    expect(() => b.add({ tag: "insert", relation: logs, new: [new Date()] as unknown as RowValues })).toThrow(
      /not delivered as text/,
    );
  });
});

describe("TransactionBuilder replay", () => {
  const at = (commitLsn: string, commitEndLsn: string) => ({
    begin: { ...begin, commitLsn },
    commit: { ...commit, commitLsn, commitEndLsn },
  });
  const changes: Array<Parameters<TransactionBuilder["add"]>[0]> = [
    message("_retrace", '{"user":"replayed"}'),
    { tag: "insert", relation: logs, new: tuple(logs, { line: "l" }) },
    { tag: "truncate", relations: [logs], cascade: false, restartIdentity: false } as Pgoutput.MessageTruncate,
  ];
  const replay = (b: TransactionBuilder, lsns: { begin: TransactionBegin; commit: TransactionCommit }) => {
    b.begin(lsns.begin);
    for (const change of changes) b.add(change);
    return b.commit(lsns.commit);
  };

  it("builds no rows for transactions committed at or below the stored checkpoint, and rows after it", () => {
    const b = builder();
    b.skipStoredUpTo("00000000/00002000");
    const below = replay(b, at("0/1000", "0/1030"));
    const atCheckpoint = replay(b, at("0/2000", "0/2030"));
    const after = replay(b, at("0/3000", "0/3030"));
    expect([below, atCheckpoint].map((tx) => [tx.rows.length, tx.rowCount, tx.notices])).toEqual([
      [0, 0, []],
      [0, 0, []],
    ]);
    // They still end, so that the session stores and acknowledges them like any other.
    expect([below.commitEndLsn, atCheckpoint.commitEndLsn]).toEqual(["0/1030", "0/2030"]);
    expect(after.rows.map((row) => [row.operation, row.seq, row.context])).toEqual([
      ["CREATE", 0, '{"user":"replayed"}'],
      ["TRUNCATE", 1, '{"user":"replayed"}'],
    ]);
  });

  it("compares commit LSNs as numbers, and builds everything without a checkpoint", () => {
    const b = builder();
    b.skipStoredUpTo("0/FFFFFFFF");
    expect(replay(b, at("1/0", "1/30")).rowCount).toBe(2);
    const fresh = builder();
    fresh.skipStoredUpTo(null);
    expect(replay(fresh, at("0/1", "0/30")).rowCount).toBe(2);
  });

  it("stops skipping once past the checkpoint", () => {
    const b = builder();
    b.skipStoredUpTo("0/2000");
    expect(replay(b, at("0/3000", "0/3030")).rowCount).toBe(2);
    // Commit LSNs only grow; a lower one after that is not taken for a replay.
    expect(replay(b, at("0/1000", "0/1030")).rowCount).toBe(2);
  });
});
