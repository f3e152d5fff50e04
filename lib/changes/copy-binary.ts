// Hand-written on purpose, a measured choice: COPY in binary format was the largest single ingest gain (README,
// "Benchmarks"). Keep it rather than swap in a library.
import { parseLsnHalves } from "../replication/lsn";
import { isUuid } from "../sources/lookup";
import { NO_CONTEXT, type ChangeRow } from "../replication/change-row";

/** The columns a change row fills, in the order both write paths list them. */
export const COLUMNS = [
  "source_id",
  "environment",
  "database",
  "transaction_id",
  "commit_lsn",
  "committed_at",
  "schema",
  "table",
  "primary_key",
  "operation",
  "before",
  "after",
  "changed_fields",
  "unavailable_fields",
  "context",
  "seq",
  "queued_at",
  "before_json_null_fields",
  "after_json_null_fields",
  "partition_schema",
  "partition_table",
  "bucket",
] as const;

// PostgreSQL's COPY binary format (big-endian throughout): a header, per tuple a field count and
// per field its length (-1 = NULL) and bytes in the type's binary ("send") form, a -1 trailer.
const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
const HEADER_BYTES = SIGNATURE.length + 4 + 4;
const TRAILER_BYTES = 2;
const TEXT_OID = 25;
const JSONB_VERSION = 1;
/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in milliseconds since the Unix epoch. */
const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1);
const TWO_32 = 2 ** 32;
/** The text[] columns of a tuple. */
const ARRAY_COLUMNS = 4;
/**
 * Everything of a tuple but its strings: field count, a length per column, uuid, four int64, int4,
 * jsonb version, array headers.
 */
const TUPLE_FIXED_BYTES = 2 + COLUMNS.length * 4 + 16 + 4 * 8 + 4 + 1 + ARRAY_COLUMNS * 20;
/** UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units). */
const UTF8_PER_UNIT = 3;
const MIN_BUFFER_BYTES = 64 * 1024;
const SHORT_STRING = 24;

/** A 64-bit integer as its two 32-bit halves (the high one signed), ready to be written. */
type Int64 = { high: number; low: number };

function int64FromBigInt(value: bigint, what: string): Int64 {
  if (BigInt.asIntN(64, value) !== value) throw new Error(`${what} out of the int64 range`);
  return { high: Number(value >> 32n), low: Number(BigInt.asUintN(32, value)) };
}

/** A safe integer's halves without going through bigint. */
function int64FromNumber(value: number): Int64 {
  const high = Math.floor(value / TWO_32);
  return { high, low: value - high * TWO_32 };
}

const INT8 = /^-?\d{1,19}$/;

/** An int8 from its decimal text (a source xid). */
export function parseInt8(text: string): Int64 {
  if (!INT8.test(text)) throw new Error(`Invalid transaction id: ${text}`);
  // Up to 15 digits stays a safe integer: no bigint needed for an xid.
  const digits = text.startsWith("-") ? text.length - 1 : text.length;
  return digits <= 15 ? int64FromNumber(Number(text)) : int64FromBigInt(BigInt(text), `Transaction id ${text}`);
}

/** A run of decimal digits as a number, NaN if it is not one. */
function decimal(text: string, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    value = value * 10 + (c >= 0x30 && c <= 0x39 ? c - 0x30 : NaN);
  }
  return value;
}

// What microsToTimestamp and Date#toISOString print: UTC, whole seconds (an expanded year outside
// 0000-9999), up to six fraction digits.
const TIMESTAMP = /^((?:\d{4}|[+-]\d{6})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,6}))?Z$/;

/** A timestamptz: microseconds since 2000-01-01T00:00:00Z, exactly (a Date alone would drop the microseconds). */
export function parseTimestamp(text: string): Int64 {
  const match = TIMESTAMP.exec(text);
  const wholeSeconds = match?.[1] ? Date.parse(`${match[1]}Z`) : NaN;
  // Date.parse takes February 30 for March 1: the date must print back as it was given.
  if (!match?.[1] || Number.isNaN(wholeSeconds) || new Date(wholeSeconds).toISOString().slice(0, -5) !== match[1]) {
    throw new Error(`Invalid timestamp: ${text}`);
  }
  const fraction = match[2] ? Number(match[2].padEnd(6, "0")) : 0;
  const seconds = (wholeSeconds - POSTGRES_EPOCH_MS) / 1000;
  const micros = seconds * 1_000_000 + fraction;
  // Exact while it is a safe integer (years ~1715 to ~2285); beyond, the same sum in bigint.
  return Number.isSafeInteger(micros)
    ? int64FromNumber(micros)
    : int64FromBigInt(BigInt(seconds) * 1_000_000n + BigInt(fraction), `Timestamp ${text}`);
}

/** "2026-11-22T22:00:00.123456Z": microsToTimestamp's form, 19 characters of second, 6 of fraction. */
const FIXED_FORM_LENGTH = 27;
const SECOND_LENGTH = 19;

/**
 * parseTimestamp for timestamps in a row, which often share their second (one commit time per
 * single-row transaction): then only the six fraction digits are parsed.
 */
function timestampParser(): (text: string) => Int64 {
  /** The last fixed-form timestamp's whole second (its first 19 characters) and its microseconds. */
  let second: string | null = null;
  let secondMicros = 0;
  return (text) => {
    const fixedForm =
      text.length === FIXED_FORM_LENGTH && text.charCodeAt(SECOND_LENGTH) === 0x2e && text.endsWith("Z");
    if (fixedForm && second !== null && text.startsWith(second)) {
      const fraction = decimal(text, SECOND_LENGTH + 1, FIXED_FORM_LENGTH - 1);
      if (!Number.isNaN(fraction)) return int64FromNumber(secondMicros + fraction);
    }
    const value = parseTimestamp(text);
    const micros = value.high * TWO_32 + value.low;
    // Only where the sum above stays exact.
    if (fixedForm && Number.isSafeInteger(micros - 1_000_000) && Number.isSafeInteger(micros + 1_000_000)) {
      second = text.slice(0, SECOND_LENGTH);
      secondMicros = micros - decimal(text, SECOND_LENGTH + 1, FIXED_FORM_LENGTH - 1);
    }
    return value;
  };
}

/** A uuid's 16 bytes as four 32-bit words. */
function parseUuid(text: string): number[] {
  if (!isUuid(text)) throw new Error(`Invalid source id: ${text}`);
  const bytes = Buffer.from(text.replace(/-/g, ""), "hex");
  return [0, 4, 8, 12].map((offset) => bytes.readUInt32BE(offset));
}

/** The last text converted and its conversion: consecutive rows mostly share the text. */
class LastConverted {
  private text: string | null = null;
  private value: Int64 = { high: 0, low: 0 };

  constructor(private readonly convert: (text: string) => Int64) {}

  of(text: string): Int64 {
    if (text !== this.text) {
      this.value = this.convert(text);
      this.text = text;
    }
    return this.value;
  }
}

const arrayBytes = (values: readonly string[] | null) => {
  let units = 0;
  if (values) for (const value of values) units += 4 + UTF8_PER_UNIT * value.length;
  return units;
};

/**
 * Encodes `changes` rows as COPY binary data (columns as in COLUMNS) for one source: the store
 * then parses no timestamps, LSNs, ids or escapes. One encoder per store transaction: it keeps
 * the conversions of the last transaction id, LSN and timestamps, which consecutive rows share.
 *
 * Each batch is written into one buffer that grows by doubling, starting a little above the
 * previous batch's size; strings are written straight into it (no buffer per field).
 */
export class ChangesCopyEncoder {
  private readonly sourceId: number[];
  private readonly transactionId = new LastConverted(parseInt8);
  private readonly commitLsn = new LastConverted(parseLsnHalves);
  private readonly committedAt = new LastConverted(timestampParser());
  private readonly queuedAt = new LastConverted(timestampParser());
  private buffer = Buffer.alloc(0);
  private offset = 0;
  private sizeHint = MIN_BUFFER_BYTES;

  constructor(sourceId: string) {
    this.sourceId = parseUuid(sourceId);
  }

  /** One COPY's data: header, the rows, trailer. */
  encode(rows: readonly ChangeRow[]): Buffer {
    this.buffer = Buffer.allocUnsafe(this.sizeHint);
    this.offset = 0;
    this.ensure(HEADER_BYTES + TRAILER_BYTES);
    this.offset += SIGNATURE.copy(this.buffer, 0);
    this.int32(0); // flags: no OIDs
    this.int32(0); // header extension length
    for (const row of rows) this.row(row);
    this.ensure(TRAILER_BYTES);
    this.int16(-1);
    const data = this.buffer.subarray(0, this.offset);
    this.buffer = Buffer.alloc(0);
    // Headroom: the next batch is often a little larger, and growing copies the whole buffer.
    this.sizeHint = Math.max(MIN_BUFFER_BYTES, Math.ceil(data.length * 1.25));
    return data;
  }

  private row(row: ChangeRow): void {
    const unavailable = row.unavailableFields.length > 0 ? row.unavailableFields : null;
    // One capacity check per tuple, for its largest possible size: the writes below need none.
    this.ensure(
      TUPLE_FIXED_BYTES +
        UTF8_PER_UNIT *
          (row.environment.length +
            row.database.length +
            row.schema.length +
            row.table.length +
            (row.primaryKey?.length ?? 0) +
            row.operation.length +
            (row.before?.length ?? 0) +
            (row.after?.length ?? 0) +
            row.context.length +
            (row.partitionSchema?.length ?? 0) +
            (row.partitionTable?.length ?? 0) +
            row.bucket.length) +
        arrayBytes(row.changedFields) +
        arrayBytes(unavailable) +
        arrayBytes(row.beforeJsonNullFields) +
        arrayBytes(row.afterJsonNullFields),
    );
    this.int16(COLUMNS.length);
    this.int32(16);
    for (const word of this.sourceId) this.int32(word);
    this.text(row.environment);
    this.text(row.database);
    this.int64(this.transactionId.of(row.transactionId));
    this.int64(this.commitLsn.of(row.commitLsn));
    this.int64(this.committedAt.of(row.committedAt));
    this.text(row.schema);
    this.text(row.table);
    this.nullableText(row.primaryKey);
    this.text(row.operation); // an enum's binary form is its label
    this.nullableText(row.before); // json's binary form is its text
    this.nullableText(row.after);
    this.textArray(row.changedFields);
    this.textArray(unavailable);
    if (row.context === NO_CONTEXT) this.int32(-1);
    else this.jsonb(row.context);
    this.int32(4);
    this.int32(row.seq);
    this.int64(this.queuedAt.of(row.queuedAt));
    this.textArray(row.beforeJsonNullFields);
    this.textArray(row.afterJsonNullFields);
    this.nullableText(row.partitionSchema);
    this.nullableText(row.partitionTable);
    this.text(row.bucket);
  }

  private ensure(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    let size = Math.max(this.buffer.length * 2, MIN_BUFFER_BYTES);
    while (size < this.offset + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }

  private int16(value: number): void {
    const buffer = this.buffer;
    buffer[this.offset] = value >>> 8;
    buffer[this.offset + 1] = value;
    this.offset += 2;
  }

  private int32(value: number): void {
    this.int32At(this.offset, value);
    this.offset += 4;
  }

  /** Typed-array stores truncate to the low byte, so no masks are needed. */
  private int32At(offset: number, value: number): void {
    const buffer = this.buffer;
    buffer[offset] = value >>> 24;
    buffer[offset + 1] = value >>> 16;
    buffer[offset + 2] = value >>> 8;
    buffer[offset + 3] = value;
  }

  /** A length-prefixed int8, pg_lsn or timestamptz. */
  private int64(value: Int64): void {
    this.int32(8);
    this.int32(value.high);
    this.int32(value.low);
  }

  /** UTF-8 bytes without their length; returns how many. */
  private utf8(value: string): number {
    const buffer = this.buffer;
    const start = this.offset;
    const length = value.length;
    // A native write costs ~0.1 µs a call: short ASCII strings (names, keys) are cheaper copied here.
    if (length <= SHORT_STRING) {
      let i = 0;
      for (; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buffer[start + i] = c;
      }
      if (i === length) {
        this.offset += length;
        return length;
      }
    }
    const written = buffer.write(value, start, "utf8");
    this.offset += written;
    return written;
  }

  private text(value: string): void {
    const lengthAt = this.offset;
    this.offset += 4;
    this.int32At(lengthAt, this.utf8(value));
  }

  private nullableText(value: string | null): void {
    if (value === null) this.int32(-1);
    else this.text(value);
  }

  private jsonb(value: string): void {
    const lengthAt = this.offset;
    this.offset += 4;
    this.buffer[this.offset++] = JSONB_VERSION;
    this.int32At(lengthAt, 1 + this.utf8(value));
  }

  /** A one-dimensional text[] (lower bound 1, no NULL elements); [] as the zero-dimension array. */
  private textArray(values: readonly string[] | null): void {
    if (values === null) {
      this.int32(-1);
      return;
    }
    const lengthAt = this.offset;
    this.offset += 4;
    this.int32(values.length === 0 ? 0 : 1); // dimensions
    this.int32(0); // has NULL elements
    this.int32(TEXT_OID);
    if (values.length > 0) {
      this.int32(values.length);
      this.int32(1); // lower bound
      for (const value of values) this.text(value);
    }
    this.int32At(lengthAt, this.offset - lengthAt - 4);
  }
}
