import type { Pgoutput } from "pg-logical-replication";
import { describe, expect, it } from "vitest";
import { MAX_BEMI_CONTEXT_CHARACTERS, MAX_CONTEXT_BYTES, contextKind } from "./context";
import type { RowValues, TransactionBegin, TransactionCommit } from "./plugin";
import { TransactionBuilder, type RowMessage } from "./rows";

// How context messages attach to row changes: `_retrace` and Sequin for the rest of the
// transaction, `_bemi` to the row change whose WAL record starts where the message's ends
// (Bemi's worker pairs them by that position).
const logs: Pgoutput.MessageRelation = {
  tag: "relation",
  relationOid: 3,
  schema: "public",
  name: "logs",
  replicaIdentity: "full",
  columns: [{ name: "line", flags: 1, typeOid: 25, typeMod: -1, typeSchema: null, typeName: null, parser: (v) => v }],
  keyColumns: ["line"],
};
const line = (text: string): RowValues => [text];
const insert = (text: string): RowMessage => ({ tag: "insert", relation: logs, new: line(text) });
const update = (text: string): RowMessage => ({
  tag: "update",
  relation: logs,
  key: null,
  old: line("o"),
  new: line(text),
});
const remove = (text: string): RowMessage => ({ tag: "delete", relation: logs, key: null, old: line(text) });
const truncate: RowMessage = { tag: "truncate", cascade: false, restartIdentity: false, relations: [logs] };
const message = (prefix: string, content: string): RowMessage => ({
  tag: "message",
  flags: 1,
  transactional: true,
  messageLsn: null,
  prefix,
  content: Buffer.from(content, "utf8"),
});
const bemi = (json: string) => message("_bemi", json);
const retrace = (json: string) => message("_retrace", json);
const SEQUIN_SET = "sequin:transaction_annotations.set";
const SEQUIN_CLEAR = "sequin:transaction_annotations.clear";
/** A WAL record the stream does not carry: another session's, a lock record, an unpublished table's row. */
const OTHER = "other record";

/**
 * Lays the records out in a WAL, one after the other, and returns what pgoutput sends for them:
 * a row change carries where its record starts, a message where its record ends (as the library
 * prints it, zero-padded).
 */
function inWal(records: Array<RowMessage | typeof OTHER>): RowMessage[] {
  let at = 0x1b86748;
  const sent: RowMessage[] = [];
  for (const record of records) {
    const start = at;
    at += 0x40;
    if (record === OTHER) continue;
    if (record.tag === "message") {
      sent.push({ ...record, messageLsn: `00000000/${at.toString(16).toUpperCase().padStart(8, "0")}` });
    } else if (record.tag === "insert" || record.tag === "update" || record.tag === "delete") {
      sent.push({ ...record, walStart: `0/${start.toString(16).toUpperCase()}` });
    } else {
      sent.push(record);
    }
  }
  return sent;
}

const begin: TransactionBegin = { tag: "begin", commitLsn: "0/10", commitTime: 0, xid: 7 };
const commit: TransactionCommit = { tag: "commit", flags: 0, commitLsn: "0/10", commitEndLsn: "0/20", commitTime: 0 };

function contexts(records: Array<RowMessage | typeof OTHER>) {
  const builder = new TransactionBuilder({ environment: "test", database: "app" }, { keys: () => [] }, () => 1);
  builder.begin(begin);
  for (const m of inWal(records)) builder.add(m);
  const tx = builder.commit(commit);
  return { contexts: tx.rows.map((r) => [r.operation, r.context]), notices: tx.notices };
}

describe("context kinds", () => {
  it("knows the prefixes and ignores the rest", () => {
    expect(contextKind("_retrace")).toBe("set");
    expect(contextKind(SEQUIN_SET)).toBe("set");
    expect(contextKind(SEQUIN_CLEAR)).toBe("clear");
    expect(contextKind("_bemi")).toBe("next-row");
    expect(contextKind("_bemi_heartbeat")).toBeNull();
    expect(contextKind("retrace-heartbeat")).toBeNull();
  });
});

describe("_bemi: one message, the row change right after it in the WAL", () => {
  it("stitches each row trigger message to its own row", () => {
    const result = contexts([bemi('{"r":1}'), insert("a"), bemi('{"r":2}'), update("b"), bemi('{"r":3}'), remove("c")]);
    expect(result.contexts).toEqual([
      ["CREATE", '{"r":1}'],
      ["UPDATE", '{"r":2}'],
      ["DELETE", '{"r":3}'],
    ]);
  });

  it("pairs by position: a lock record before the trigger fires changes nothing", () => {
    // A BEFORE UPDATE/DELETE trigger runs after the row is locked: lock, message, row.
    expect(contexts([OTHER, bemi('{"r":1}'), update("a"), OTHER, bemi('{"r":2}'), remove("b")]).contexts).toEqual([
      ["UPDATE", '{"r":1}'],
      ["DELETE", '{"r":2}'],
    ]);
  });

  it("leaves a statement without a comment after one with it without context", () => {
    expect(contexts([bemi('{"r":1}'), insert("a"), insert("b"), OTHER, update("c")]).contexts).toEqual([
      ["CREATE", '{"r":1}'],
      ["CREATE", "{}"],
      ["UPDATE", "{}"],
    ]);
  });

  it("drops a message whose row was never written (ON CONFLICT DO NOTHING) when another message follows", () => {
    // The trigger fired for the conflicting row, then the next statement's trigger fired for its row.
    expect(contexts([bemi('{"skipped":true}'), bemi('{"r":2}'), insert("b"), insert("c")]).contexts).toEqual([
      ["CREATE", '{"r":2}'],
      ["CREATE", "{}"],
    ]);
  });

  it("gives such a message to an uncommented row only if that row's record comes right after it, as Bemi does", () => {
    expect(contexts([bemi('{"orphan":1}'), insert("a")]).contexts).toEqual([["CREATE", '{"orphan":1}']]);
    // An UPDATE (or DELETE) on a table with the trigger writes a lock record first.
    expect(contexts([bemi('{"orphan":2}'), OTHER, update("b")]).contexts).toEqual([["UPDATE", "{}"]]);
  });

  it("pairs nothing across another record, as Bemi's worker (another session's, a TOAST lock record)", () => {
    expect(contexts([retrace('{"sdk":1}'), bemi('{"r":1}'), OTHER, insert("a"), insert("b")]).contexts).toEqual([
      ["CREATE", '{"sdk":1}'],
      ["CREATE", '{"sdk":1}'],
    ]);
  });

  it("gives a TRUNCATE no _bemi context and drops one left waiting", () => {
    expect(contexts([bemi('{"skipped":true}'), truncate, insert("a")]).contexts).toEqual([
      ["TRUNCATE", "{}"],
      ["CREATE", "{}"],
    ]);
  });

  it("takes precedence over a _retrace context for its row only", () => {
    expect(contexts([retrace('{"sdk":1}'), bemi('{"bemi":1}'), insert("a"), insert("b"), truncate]).contexts).toEqual([
      ["CREATE", '{"bemi":1}'],
      ["CREATE", '{"sdk":1}'],
      ["TRUNCATE", '{"sdk":1}'],
    ]);
  });

  it("pairs nothing with a row whose position is not known", () => {
    const builder = new TransactionBuilder({ environment: "test", database: "app" }, { keys: () => [] }, () => 1);
    builder.begin(begin);
    builder.add({ ...bemi('{"r":1}'), messageLsn: "0/100" } as RowMessage);
    builder.add(insert("a"));
    expect(builder.commit(commit).rows[0]?.context).toBe("{}");
  });

  it("accepts context up to Bemi's 1,000,000 characters, not beyond", () => {
    const padded = (length: number) => `{"p":"${"é".repeat(length - 8)}"}`;
    const fits = padded(MAX_BEMI_CONTEXT_CHARACTERS);
    expect(fits.length).toBe(MAX_BEMI_CONTEXT_CHARACTERS);
    expect(Buffer.byteLength(fits)).toBeGreaterThan(MAX_CONTEXT_BYTES);
    const over = padded(MAX_BEMI_CONTEXT_CHARACTERS + 1);
    const result = contexts([bemi(fits), insert("a"), bemi(over), insert("b"), insert("c")]);
    expect(result.contexts.map(([, context]) => context?.length)).toEqual([MAX_BEMI_CONTEXT_CHARACTERS, 2, 2]);
    expect(result.notices).toEqual([
      { kind: "context-ignored", reason: "context is over Bemi's 1000000-character limit" },
    ]);
  });

  it("gives the row after a malformed message no context rather than the context before it", () => {
    const result = contexts([retrace('{"sdk":1}'), bemi("{oops"), insert("a"), insert("b")]);
    expect(result.contexts).toEqual([
      ["CREATE", "{}"],
      ["CREATE", '{"sdk":1}'],
    ]);
    expect(result.notices).toEqual([{ kind: "context-ignored", reason: "context is not valid UTF-8 JSON" }]);
  });

  it("does not carry a waiting message into the next transaction", () => {
    const builder = new TransactionBuilder({ environment: "test", database: "app" }, { keys: () => [] }, () => 1);
    const [message, row] = inWal([bemi('{"r":1}'), insert("a")]);
    if (!message || !row) throw new Error("no records");
    builder.begin(begin);
    builder.add(message);
    builder.commit(commit);
    builder.begin(begin);
    builder.add(row);
    expect(builder.commit(commit).rows[0]?.context).toBe("{}");
  });
});

describe("repeated messages (a row trigger's, one per row)", () => {
  it("reads a repeat as the message it repeats, limit and failures included", () => {
    const big = `{"p":"${"x".repeat(MAX_CONTEXT_BYTES)}"}`;
    const result = contexts([
      bemi(big),
      insert("a"),
      retrace(big), // the same bytes under the 64 KiB limit: refused
      insert("b"),
      bemi("{bad"),
      insert("c"),
      bemi("{bad"),
      insert("d"),
    ]);
    expect(result.contexts.map(([, context]) => context?.length)).toEqual([big.length, 2, 2, 2]);
    expect(result.notices.map((n) => n.kind === "context-ignored" && n.reason)).toEqual([
      `context is ${big.length} bytes, over the ${MAX_CONTEXT_BYTES}-byte limit`,
      "context is not valid UTF-8 JSON",
      "context is not valid UTF-8 JSON",
    ]);
  });

  it("is not fooled by the stream reusing a message's buffer", () => {
    const shared = Buffer.from('{"row":1}');
    const [first, a, second, b] = inWal([bemi("x"), insert("a"), bemi("x"), insert("b")]);
    if (first?.tag !== "message" || second?.tag !== "message" || !a || !b) throw new Error("no records");
    const builder = new TransactionBuilder({ environment: "test", database: "app" }, { keys: () => [] }, () => 1);
    builder.begin(begin);
    builder.add({ ...first, content: shared });
    builder.add(a);
    shared.write('{"row":2}');
    builder.add({ ...second, content: shared });
    builder.add(b);
    expect(builder.commit(commit).rows.map((r) => r.context)).toEqual(['{"row":1}', '{"row":2}']);
  });
});

describe("_retrace and Sequin annotations: the rest of the transaction", () => {
  it("applies _retrace to every later change, TRUNCATE included, until the next message", () => {
    expect(
      contexts([insert("a"), retrace('{"u":1}'), insert("b"), truncate, retrace('{"u":2}'), remove("c")]).contexts,
    ).toEqual([
      ["CREATE", "{}"],
      ["CREATE", '{"u":1}'],
      ["TRUNCATE", '{"u":1}'],
      ["DELETE", '{"u":2}'],
    ]);
  });

  it("applies Sequin's set until its clear", () => {
    const result = contexts([
      message(SEQUIN_SET, '{"user":"ada","n":12345678901234567890}'),
      insert("a"),
      update("b"),
      message(SEQUIN_CLEAR, ""),
      insert("c"),
      message(SEQUIN_SET, '{"user":"bob"}'),
      truncate,
    ]);
    expect(result.contexts).toEqual([
      ["CREATE", '{"user":"ada","n":12345678901234567890}'],
      ["UPDATE", '{"user":"ada","n":12345678901234567890}'],
      ["CREATE", "{}"],
      ["TRUNCATE", '{"user":"bob"}'],
    ]);
    expect(result.notices).toEqual([]);
  });

  it("stitches context sent once per row (a row trigger) to that row", () => {
    expect(contexts([retrace('{"row":1}'), insert("a"), retrace('{"row":2}'), insert("b")]).contexts).toEqual([
      ["CREATE", '{"row":1}'],
      ["CREATE", '{"row":2}'],
    ]);
  });

  it("keeps the 64 KiB limit for _retrace", () => {
    const big = `{"p":"${"x".repeat(MAX_CONTEXT_BYTES)}"}`;
    const result = contexts([retrace('{"u":1}'), retrace(big), insert("a")]);
    expect(result.contexts).toEqual([["CREATE", "{}"]]);
    expect(result.notices).toHaveLength(1);
  });
});
