import { describe, expect, it } from "vitest";
import type { ChangeRow } from "../replication/change-row";
import { ChangesCopyEncoder, parseInt8, parseTimestamp } from "./copy-binary";

// The expected bytes are built with Buffer's own writers and literal values, not the encoder's code.
const int16 = (value: number) => {
  const bytes = Buffer.alloc(2);
  bytes.writeInt16BE(value);
  return bytes;
};
const int32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
};
const field = (bytes: Buffer) => Buffer.concat([int32(bytes.length), bytes]);
const int64Field = (value: bigint) => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(BigInt.asIntN(64, value));
  return field(bytes);
};
const textField = (text: string) => field(Buffer.from(text, "utf8"));
const NULL = int32(-1);
const HEADER = Buffer.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
const TRAILER = Buffer.from([0xff, 0xff]);

const SOURCE_ID = "0f3c2a1e-9b7d-4c5e-8a6f-1234567890ab";

const asBigInt = ({ high, low }: { high: number; low: number }) => (BigInt(high) << 32n) + BigInt(low);

function row(overrides: Partial<ChangeRow> = {}): ChangeRow {
  return {
    environment: "prodé",
    database: "shop",
    schema: "public",
    table: "órders😀",
    primaryKey: "42",
    operation: "UPDATE",
    before: '{"a":"x"}',
    after: null,
    changedFields: ["a", "ü"],
    unavailableFields: [],
    beforeJsonNullFields: null,
    afterJsonNullFields: null,
    partitionSchema: null,
    partitionTable: null,
    bucket: "",
    context: '{"k":"ü"}',
    transactionId: "4294967295",
    commitLsn: "FFFFFFFF/FFFFFFFE",
    seq: 7,
    committedAt: "1999-12-31T23:59:59.999999Z",
    queuedAt: "2000-01-01T00:00:00.000001Z",
    ...overrides,
  };
}

describe("ChangesCopyEncoder", () => {
  it("writes a row exactly as COPY binary expects it", () => {
    const expected = Buffer.concat([
      HEADER,
      int16(22),
      field(Buffer.from("0f3c2a1e9b7d4c5e8a6f1234567890ab", "hex")),
      field(Buffer.from([0x70, 0x72, 0x6f, 0x64, 0xc3, 0xa9])), // "prodé"
      textField("shop"),
      int64Field(4294967295n),
      int64Field(0xfffffffffffffffen),
      int64Field(-1n), // a microsecond before 2000-01-01
      textField("public"),
      field(Buffer.from([0xc3, 0xb3, 0x72, 0x64, 0x65, 0x72, 0x73, 0xf0, 0x9f, 0x98, 0x80])), // "órders😀"
      textField("42"),
      textField("UPDATE"),
      textField('{"a":"x"}'),
      NULL,
      field(
        Buffer.concat([
          int32(1),
          int32(0),
          int32(25),
          int32(2),
          int32(1),
          textField("a"),
          field(Buffer.from([0xc3, 0xbc])),
        ]),
      ),
      NULL, // no unavailable fields
      field(Buffer.concat([Buffer.from([1]), Buffer.from('{"k":"ü"}', "utf8")])),
      field(int32(7)),
      int64Field(1n),
      NULL, // no JSON null in before
      NULL, // nor in after
      NULL, // no partition (not a TRUNCATE of one)
      NULL,
      textField(""), // the source's bucket
      TRAILER,
    ]);
    expect(new ChangesCopyEncoder(SOURCE_ID).encode([row()]).toString("hex")).toBe(expected.toString("hex"));
  });

  it("writes an empty text[] as the zero-dimension array, and lists unavailable fields", () => {
    const data = new ChangesCopyEncoder(SOURCE_ID).encode([row({ changedFields: [], unavailableFields: ["big"] })]);
    const empty = field(Buffer.concat([int32(0), int32(0), int32(25)]));
    const unavailable = field(Buffer.concat([int32(1), int32(0), int32(25), int32(1), int32(1), textField("big")]));
    expect(data.includes(Buffer.concat([empty, unavailable]))).toBe(true);
  });

  it("lists the json columns holding JSON null, per image, at the end of the tuple", () => {
    const data = new ChangesCopyEncoder(SOURCE_ID).encode([
      row({ beforeJsonNullFields: ["doc", "é"], afterJsonNullFields: ["doc"] }),
    ]);
    const before = field(
      Buffer.concat([int32(1), int32(0), int32(25), int32(2), int32(1), textField("doc"), textField("é")]),
    );
    const after = field(Buffer.concat([int32(1), int32(0), int32(25), int32(1), int32(1), textField("doc")]));
    const tail = Buffer.concat([before, after, NULL, NULL, textField(""), TRAILER]);
    expect(data.subarray(-tail.length).toString("hex")).toBe(tail.toString("hex"));
  });

  it("names the partition a TRUNCATE emptied, at the end of the tuple", () => {
    const data = new ChangesCopyEncoder(SOURCE_ID).encode([
      row({ operation: "TRUNCATE", partitionSchema: "públic", partitionTable: "meas_2024", bucket: "públic.meas" }),
    ]);
    const tail = Buffer.concat([
      NULL,
      NULL,
      textField("públic"),
      textField("meas_2024"),
      textField("públic.meas"),
      TRAILER,
    ]);
    expect(data.subarray(-tail.length).toString("hex")).toBe(tail.toString("hex"));
  });

  it("encodes a batch as the rows one by one would be, across buffer growth and cached conversions", () => {
    const image = `{"doc":"${"é".repeat(100_000)}"}`; // larger than the first buffer
    const rows = [
      row({ committedAt: "2024-05-06T07:08:09.000001Z", after: image }),
      row({ committedAt: "2024-05-06T07:08:09.999999Z", transactionId: "1", commitLsn: "0/1" }),
      row({ committedAt: "2024-05-06T07:08:10.000000Z", queuedAt: "2024-05-06T07:08:10.5Z" }),
      row({ committedAt: "2024-05-06T07:08:09.5Z", transactionId: "-9223372036854775808" }),
      row({ committedAt: "2024-05-06T07:08:09.000000Z", commitLsn: "16/b374d848" }),
    ];
    const encoder = new ChangesCopyEncoder(SOURCE_ID);
    encoder.encode([row({ after: "x".repeat(300_000) })]); // a large batch before: a different starting size
    const alone = rows.map((one) =>
      new ChangesCopyEncoder(SOURCE_ID).encode([one]).subarray(HEADER.length, -TRAILER.length),
    );
    expect(encoder.encode(rows).toString("hex")).toBe(Buffer.concat([HEADER, ...alone, TRAILER]).toString("hex"));
  });

  it("refuses values the store would refuse, instead of sending them", () => {
    const encoder = new ChangesCopyEncoder(SOURCE_ID);
    expect(() => encoder.encode([row({ commitLsn: "0/100000000" })])).toThrow("Invalid LSN");
    expect(() => encoder.encode([row({ transactionId: "9223372036854775808" })])).toThrow("out of the int64 range");
    expect(() => encoder.encode([row({ queuedAt: "2024-02-30T00:00:00.000000Z" })])).toThrow("Invalid timestamp");
    expect(() => new ChangesCopyEncoder("not-a-uuid")).toThrow("Invalid source id");
  });
});

describe("parseTimestamp", () => {
  const micros = (iso: string, fraction: bigint) => BigInt(Date.parse(iso)) * 1000n + fraction - 946_684_800_000_000n;

  it.each([
    ["2000-01-01T00:00:00Z", 0n],
    ["2000-01-01T00:00:00.000001Z", 1n],
    ["1999-12-31T23:59:59.999999Z", -1n],
    ["2026-11-22T22:00:00.123456Z", micros("2026-11-22T22:00:00Z", 123_456n)],
    ["2024-05-06T07:08:09.123Z", micros("2024-05-06T07:08:09Z", 123_000n)],
    ["1969-12-31T23:59:59.999999Z", -946_684_800_000_001n],
    ["1900-01-01T00:00:00.000001Z", micros("1900-01-01T00:00:00Z", 1n)],
    // Beyond 2^53 µs from 2000: the bigint path.
    ["9999-12-31T23:59:59.999999Z", micros("9999-12-31T23:59:59Z", 999_999n)],
    ["-000001-01-01T00:00:00Z", micros("-000001-01-01T00:00:00Z", 0n)],
  ])("%s", (text, expected) => {
    expect(asBigInt(parseTimestamp(text))).toBe(expected);
  });

  it.each([
    "2024-02-30T00:00:00Z",
    "2024-05-06 07:08:09Z",
    "2024-05-06T07:08:09.1234567Z",
    "2024-05-06T07:08:09+00:00",
    "",
  ])("refuses %j", (text) => {
    expect(() => parseTimestamp(text)).toThrow("Invalid timestamp");
  });
});

describe("parseInt8", () => {
  it("reads any int8", () => {
    expect(asBigInt(parseInt8("4294967295"))).toBe(4294967295n);
    expect(asBigInt(parseInt8("9223372036854775807"))).toBe(9223372036854775807n);
    expect(asBigInt(parseInt8("-9223372036854775808"))).toBe(-9223372036854775808n);
    expect(asBigInt(parseInt8("-5"))).toBe(-5n);
    expect(() => parseInt8("1e3")).toThrow("Invalid transaction id");
  });
});
