import { PgoutputPlugin } from "pg-logical-replication";
import { describe, expect, it } from "vitest";
import { RawTextPgoutputPlugin } from "./plugin";

/** Minimal pgoutput (protocol 1/2, non-streaming) encoder for the messages under test. */
class Writer {
  private parts: Buffer[] = [];
  byte(value: number) {
    this.parts.push(Buffer.from([value]));
    return this;
  }
  char(value: string) {
    return this.byte(value.charCodeAt(0));
  }
  int16(value: number) {
    const b = Buffer.alloc(2);
    b.writeInt16BE(value);
    this.parts.push(b);
    return this;
  }
  int32(value: number) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(value);
    this.parts.push(b);
    return this;
  }
  string(value: string) {
    this.parts.push(Buffer.from(value, "utf8"), Buffer.from([0]));
    return this;
  }
  bytes(value: Buffer) {
    this.parts.push(value);
    return this;
  }
  done() {
    return Buffer.concat(this.parts);
  }
}

type Column = { name: string; typeOid: number };
type Cell = string | null | "unchanged";

const columns: Column[] = [
  { name: "id", typeOid: 20 },
  { name: "at", typeOid: 1184 },
  { name: "flag", typeOid: 16 },
  { name: "body", typeOid: 25 },
];

function relation(oid: number, cols: Column[]) {
  const w = new Writer().char("R").int32(oid).string("public").string("items").char("f").int16(cols.length);
  for (const c of cols) w.byte(1).string(c.name).int32(c.typeOid).int32(-1);
  return w.done();
}

function tuple(w: Writer, cells: Cell[]) {
  w.int16(cells.length);
  for (const cell of cells) {
    if (cell === null) w.char("n");
    else if (cell === "unchanged") w.char("u");
    else {
      const bytes = Buffer.from(cell, "utf8");
      w.char("t").int32(bytes.length).bytes(bytes);
    }
  }
  return w;
}

const insert = (oid: number, cells: Cell[]) => tuple(new Writer().char("I").int32(oid).char("N"), cells).done();
const updateWithOld = (oid: number, oldCells: Cell[], newCells: Cell[]) =>
  tuple(tuple(new Writer().char("U").int32(oid).char("O"), oldCells).char("N"), newCells).done();
const updateNewOnly = (oid: number, cells: Cell[]) => tuple(new Writer().char("U").int32(oid).char("N"), cells).done();
const updateWithKey = (oid: number, keyCells: Cell[], newCells: Cell[]) =>
  tuple(tuple(new Writer().char("U").int32(oid).char("K"), keyCells).char("N"), newCells).done();
const deleteWithKey = (oid: number, keyCells: Cell[]) =>
  tuple(new Writer().char("D").int32(oid).char("K"), keyCells).done();
const deleteWithOld = (oid: number, oldCells: Cell[]) =>
  tuple(new Writer().char("D").int32(oid).char("O"), oldCells).done();

const row: Cell[] = ["9223372036854775807", "2024-02-29 23:59:59.123456+00", "t", "hello"];

describe("RawTextPgoutputPlugin", () => {
  it("parses BEGIN and COMMIT with PostgreSQL's LSN text and exact commit times", () => {
    const plugin = new RawTextPgoutputPlugin({ protoVersion: 2, publicationNames: ["p"], messages: true });
    // 2024-01-02T03:04:05.123456Z is 757_479_845_123_456 µs after 2000-01-01.
    const sincePostgresEpoch = 757_479_845_123_456;
    const time = (w: Writer) =>
      w.int32(Math.floor(sincePostgresEpoch / 2 ** 32)).int32((sincePostgresEpoch % 2 ** 32) | 0);
    const begin = time(new Writer().char("B").int32(0x1a).int32(0x0177a428)).int32(-2).done();
    expect(plugin.parse(begin)).toEqual({
      tag: "begin",
      commitLsn: "1A/177A428",
      commitTime: Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 123456,
      xid: 4294967294,
    });
    const commit = time(new Writer().char("C").byte(0).int32(0x1a).int32(0x0177a428).int32(0).int32(0xf)).done();
    expect(plugin.parse(commit)).toEqual({
      tag: "commit",
      flags: 0,
      commitLsn: "1A/177A428",
      commitEndLsn: "0/F",
      commitTime: Date.UTC(2024, 0, 2, 3, 4, 5) * 1000 + 123456,
    });
    // A commit time before 2000 (a negative int64) is exact too.
    const early = new Writer().char("B").int32(0).int32(1).int32(-1).int32(-1).int32(7).done();
    expect(plugin.parse(early)).toMatchObject({
      commitLsn: "0/1",
      commitTime: Date.UTC(2000, 0, 1) * 1000 - 1,
      xid: 7,
    });
    expect(plugin.parse(begin.subarray(0, 10))).toMatchObject({ tag: "parse-error" });
  });

  it("delivers every value as PostgreSQL's text", () => {
    const plugin = new RawTextPgoutputPlugin({ protoVersion: 2, publicationNames: ["p"], messages: true });
    plugin.parse(relation(100, columns));
    const message = plugin.parse(insert(100, row));
    expect(message.tag).toBe("insert");
    if (message.tag !== "insert") return;
    // By column position: id, at, flag, body.
    expect(message.new).toEqual(["9223372036854775807", "2024-02-29 23:59:59.123456+00", "t", "hello"]);
    expect(plugin.parsedCount).toBe(2);
  });

  it("is needed: the library alone converts values lossily", () => {
    const plain = new PgoutputPlugin({ protoVersion: 2, publicationNames: ["p"], messages: true });
    plain.parse(relation(100, columns));
    const message = plain.parse(insert(100, row));
    if (message.tag !== "insert") throw new Error("expected insert");
    expect(message.new.at).toBeInstanceOf(Date);
    expect(message.new.flag).toBe(true);
  });

  it("fills unchanged TOAST from the old tuple, leaves it undefined without one", () => {
    const plugin = new RawTextPgoutputPlugin({ protoVersion: 2, publicationNames: ["p"] });
    plugin.parse(relation(7, columns));
    const withOld = plugin.parse(updateWithOld(7, row, ["1", null, "f", "unchanged"]));
    if (withOld.tag !== "update") throw new Error("expected update");
    expect(withOld.new[3]).toBe("hello");
    const withoutOld = plugin.parse(updateNewOnly(7, ["1", null, "f", "unchanged"]));
    if (withoutOld.tag !== "update") throw new Error("expected update");
    expect(withoutOld.new).toEqual(["1", null, "f", undefined]);
  });

  it("keeps a leading byte order mark (the library's TextDecoder drops it)", () => {
    const plugin = new RawTextPgoutputPlugin({ protoVersion: 2, publicationNames: ["p"] });
    plugin.parse(relation(5, columns));
    const message = plugin.parse(insert(5, ["1", null, "t", "\uFEFFbom first"]));
    if (message.tag !== "insert") throw new Error("expected insert");
    expect(message.new[3]).toBe("\uFEFFbom first");
    const plain = new PgoutputPlugin({ protoVersion: 2, publicationNames: ["p"] });
    plain.parse(relation(5, columns));
    const lossy = plain.parse(insert(5, ["1", null, "t", "\uFEFFbom first"]));
    if (lossy.tag !== "insert") throw new Error("expected insert");
    expect(lossy.new.body).toBe("bom first");
  });

  it("decodes any UTF-8 exactly on the short-ASCII fast path and off it", () => {
    const plugin = new RawTextPgoutputPlugin({ protoVersion: 2, publicationNames: ["p"] });
    const texts = [
      "",
      "plain ascii",
      "NUL-escaped \\u0000 text, \\ alone, controls \x01\x7f",
      "Zoë",
      "\uFEFF",
      "\uFEFFbom then ascii",
      "ascii then \uFEFF",
      "😀 four bytes",
      // Around the 40-byte limit of the ASCII scan: é is two bytes.
      "a".repeat(40),
      `${"a".repeat(38)}é`,
      `é${"a".repeat(38)}`,
      `${"a".repeat(39)}é`,
      "b".repeat(41),
      `\uFEFF${"c".repeat(300)}`,
      `${"d".repeat(300)}漢字`,
    ];
    const cols = texts.map((_, i) => ({ name: `c${i}`, typeOid: 25 }));
    plugin.parse(relation(11, cols));
    const message = plugin.parse(insert(11, texts));
    if (message.tag !== "insert") throw new Error("expected insert");
    expect(message.new).toEqual(texts);
  });

  it("decodes short values of a large message (no shared one-byte text) exactly", () => {
    const plugin = new RawTextPgoutputPlugin({ protoVersion: 2, publicationNames: ["p"] });
    const texts = ["1", "x".repeat(5_000), "short", "\uFEFFé", "tail"];
    plugin.parse(
      relation(
        12,
        texts.map((_, i) => ({ name: `c${i}`, typeOid: 25 })),
      ),
    );
    const message = plugin.parse(insert(12, texts));
    if (message.tag !== "insert") throw new Error("expected insert");
    expect(message.new).toEqual(texts);
  });

  it("replaces invalid UTF-8 as a TextDecoder does, keeping the bytes around it", () => {
    const plugin = new RawTextPgoutputPlugin({ protoVersion: 2, publicationNames: ["p"] });
    plugin.parse(
      relation(13, [
        { name: "a", typeOid: 25 },
        { name: "b", typeOid: 25 },
      ]),
    );
    const invalid = [Buffer.from([0x61, 0xff, 0x62, 0xc3]), Buffer.from([0xef, 0xbb, 0xbf, 0xed, 0xa0, 0x80, 0x7a])];
    const w = new Writer().char("I").int32(13).char("N").int16(2);
    for (const bytes of invalid) w.char("t").int32(bytes.length).bytes(bytes);
    const message = plugin.parse(w.done());
    if (message.tag !== "insert") throw new Error("expected insert");
    const reference = new TextDecoder("utf-8", { ignoreBOM: true });
    expect(message.new).toEqual(invalid.map((bytes) => reference.decode(bytes)));
    expect(message.new[1]?.startsWith("\uFEFF")).toBe(true);
  });

  it("reads key-only and full old tuples of updates and deletes", () => {
    const plugin = new RawTextPgoutputPlugin({ protoVersion: 2, publicationNames: ["p"] });
    // Only `id` is flagged as key (flags 1); the others are 0.
    const keyed = new Writer().char("R").int32(8).string("public").string("items").char("d").int16(2);
    keyed.byte(1).string("id").int32(20).int32(-1).byte(0).string("body").int32(25).int32(-1);
    plugin.parse(keyed.done());
    const update = plugin.parse(updateWithKey(8, ["1", null], ["2", "unchanged"]));
    if (update.tag !== "update") throw new Error("expected update");
    expect({ key: update.key, old: update.old, new: update.new }).toEqual({
      key: ["1", undefined],
      old: null,
      new: ["2", undefined],
    });
    const byKey = plugin.parse(deleteWithKey(8, ["2", null]));
    if (byKey.tag !== "delete") throw new Error("expected delete");
    expect({ key: byKey.key, old: byKey.old }).toEqual({ key: ["2", undefined], old: null });
    const full = plugin.parse(deleteWithOld(8, ["3", "x"]));
    if (full.tag !== "delete") throw new Error("expected delete");
    expect({ key: full.key, old: full.old }).toEqual({ key: null, old: ["3", "x"] });
  });

  it("returns truncated messages and binary values as parse failures", () => {
    const plugin = new RawTextPgoutputPlugin({ protoVersion: 2, publicationNames: ["p"] });
    plugin.parse(relation(9, columns));
    const whole = insert(9, row);
    expect(plugin.parse(whole.subarray(0, whole.length - 2)).tag).toBe("parse-error");
    const binary = new Writer().char("I").int32(9).char("N").int16(1).char("b").int32(1).byte(1).done();
    expect(plugin.parse(binary).tag).toBe("parse-error");
    expect(plugin.parse(insert(9, row)).tag).toBe("insert");
  });

  it("returns a parse failure as a message instead of throwing", () => {
    const plugin = new RawTextPgoutputPlugin({ protoVersion: 2, publicationNames: ["p"] });
    const message = plugin.parse(insert(999, row));
    expect(message.tag).toBe("parse-error");
  });
});
