// Hand-written on purpose, a measured choice: exact text for every value, and messages handled as they are read
// (README, "Benchmarks": ~9% less worker CPU than the library's flow control). Keep it over the library's parser.
import type { Duplex } from "node:stream";
import type pg from "pg";
import { PgoutputPlugin, type Pgoutput } from "pg-logical-replication";
import { clientSocket } from "../db/client";

/**
 * A row's values by column position (the relation message's column order): PostgreSQL's exact
 * text, null (SQL NULL) or undefined (not sent: a non-key column of a key-only old tuple, an
 * unchanged TOASTed value with no old tuple to take it from, a column past the tuple's end).
 */
export type RowValues = Array<string | null | undefined>;

/**
 * `walStart`: where the change's WAL record starts (the XLogData header's start position, in
 * PostgreSQL's text form), set by the stream as each change arrives; undefined when not known.
 * A `_bemi` message pairs with the change that starts where the message ends (context.ts).
 */
export type RowInsert = { tag: "insert"; relation: Pgoutput.MessageRelation; new: RowValues; walStart?: string };
export type RowUpdate = {
  tag: "update";
  relation: Pgoutput.MessageRelation;
  walStart?: string;
  /** Key-only old tuple (REPLICA IDENTITY DEFAULT/INDEX, key changed): the key columns alone. */
  key: RowValues | null;
  /** Whole old tuple (REPLICA IDENTITY FULL). */
  old: RowValues | null;
  new: RowValues;
};
export type RowDelete = {
  tag: "delete";
  relation: Pgoutput.MessageRelation;
  walStart?: string;
  key: RowValues | null;
  old: RowValues | null;
};

/**
 * BEGIN and COMMIT with LSNs in PostgreSQL's own text form ("16/B374D848": no zero padding,
 * upper-case hex) and the commit time in microseconds since the Unix epoch, as a number.
 */
export type TransactionBegin = { tag: "begin"; commitLsn: string; commitTime: number; xid: number };
export type TransactionCommit = {
  tag: "commit";
  flags: number;
  commitLsn: string;
  commitEndLsn: string;
  commitTime: number;
};

/**
 * What the stream sees: the library's messages, except that transaction boundaries and row
 * changes are parsed here (row changes carry column-indexed exact text, see
 * RawTextPgoutputPlugin), plus a parse failure kept in stream order.
 */
export type StreamMessage =
  | Exclude<Pgoutput.Message, { tag: "begin" | "commit" | "insert" | "update" | "delete" }>
  | TransactionBegin
  | TransactionCommit
  | RowInsert
  | RowUpdate
  | RowDelete
  | { tag: "parse-error"; error: Error };

/**
 * Output settings of the replication session. pgoutput prints values with the walsender's own
 * settings, and a source database or role can default them to anything (`ALTER DATABASE ... SET
 * extra_float_digits = 0` prints 0.30000000000000004 as 0.3; DateStyle SQL prints 29/02/2024).
 * These are PostgreSQL's shipped defaults, so the store always holds the canonical text form.
 * extra_float_digits 3 is exact on every version (shortest-exact from PostgreSQL 12 on). A
 * timestamptz prints in the session's TimeZone (`+01` in Berlin, `+05:30` in Kolkata): UTC, so
 * every source's instants read alike (`…+00`) and compare as text across sources and over time.
 */
export const OUTPUT_SETTINGS: ReadonlyArray<readonly [name: string, value: string]> = [
  ["DateStyle", "ISO"],
  ["IntervalStyle", "postgres"],
  ["extra_float_digits", "3"],
  ["bytea_output", "hex"],
  ["TimeZone", "UTC"],
];

// Values up to this many bytes are checked for ASCII in JavaScript and, when they are, sliced
// from the message's one-byte text: one decoder call per message instead of one per value.
// Past ~40 bytes the scan costs more than the native UTF-8 decoder (measured on Node 20).
const SHORT_VALUE_BYTES = 40;
// A value sliced from the message's one-byte text keeps all of it alive until the row is
// written: only small messages get one.
const SHARED_TEXT_MAX_BYTES = 4 * 1024;

/**
 * Reads the row part of a pgoutput message. One reader per plugin, reset for each message.
 *
 * Values are decoded as UTF-8 by Buffer#toString, which keeps a leading U+FEFF (the library's
 * `new TextDecoder()` drops it from every value) and replaces invalid bytes with U+FFFD exactly
 * as a TextDecoder does. An ASCII value is the same text in any ASCII-compatible decoding, so
 * short ones are cut out of one latin1 (one char per byte) decoding of the message.
 */
class TupleReader {
  private buffer: Buffer = Buffer.alloc(0);
  private position = 0;
  private shared: string | null = null;

  reset(buffer: Buffer): this {
    this.buffer = buffer;
    this.position = 1; // after the message tag
    this.shared = null;
    return this;
  }

  // Bytes are read by index rather than with Buffer#readInt32BE and co: per value, their
  // argument checks cost more than the read.
  byte(): number {
    const value = this.buffer[this.position];
    if (value === undefined) throw new Error("Truncated pgoutput message");
    this.position++;
    return value;
  }

  int16(): number {
    this.ensure(2);
    const { buffer, position } = this;
    this.position = position + 2;
    return ((buffer[position] ?? 0) << 8) | (buffer[position + 1] ?? 0);
  }

  int32(): number {
    this.ensure(4);
    const { buffer, position } = this;
    this.position = position + 4;
    return (
      ((buffer[position] ?? 0) << 24) |
      ((buffer[position + 1] ?? 0) << 16) |
      ((buffer[position + 2] ?? 0) << 8) |
      (buffer[position + 3] ?? 0)
    );
  }

  uint32(): number {
    return this.int32() >>> 0;
  }

  /** An LSN (two 32-bit halves) as PostgreSQL prints it. */
  lsn(): string {
    const high = this.uint32();
    const low = this.uint32();
    return `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`;
  }

  /** A timestamp (int64 µs since 2000-01-01) as µs since the Unix epoch; exact until 2255. */
  timestamp(): number {
    const high = this.int32();
    const low = this.uint32();
    const micros = high * 2 ** 32 + low + POSTGRES_EPOCH_MICROS;
    if (!Number.isSafeInteger(micros)) throw new Error("Commit time out of range");
    return micros;
  }

  text(length: number): string {
    this.ensure(length);
    const { buffer } = this;
    const start = this.position;
    const end = start + length;
    this.position = end;
    if (length > SHORT_VALUE_BYTES) return buffer.toString("utf8", start, end);
    for (let i = start; i < end; i++) {
      if ((buffer[i] ?? 0x80) >= 0x80) return buffer.toString("utf8", start, end);
    }
    if (buffer.length > SHARED_TEXT_MAX_BYTES) return buffer.toString("latin1", start, end);
    this.shared ??= buffer.toString("latin1");
    return this.shared.slice(start, end);
  }

  private ensure(length: number): void {
    if (length < 0 || this.position + length > this.buffer.length) throw new Error("Truncated pgoutput message");
  }
}

// 2000-01-01T00:00:00Z, PostgreSQL's epoch, in µs since the Unix epoch.
const POSTGRES_EPOCH_MICROS = 946_684_800_000_000;

const tag = (letter: string) => letter.charCodeAt(0);
const BEGIN = tag("B");
const COMMIT = tag("C");
const INSERT = tag("I");
const UPDATE = tag("U");
const DELETE = tag("D");
const NEW = tag("N");
const KEY = tag("K");
const OLD = tag("O");
const TEXT = tag("t");
const NULL = tag("n");
const UNCHANGED = tag("u");

/**
 * pgoutput with every value kept as PostgreSQL's exact text.
 *
 * The library's parser runs `pg.types.getTypeParser(typeOid)` on each value (timestamps become
 * Dates, int8 and numeric lose digits) after decoding it with a TextDecoder that strips a leading
 * byte order mark. So row messages (insert, update, delete) are decoded here, against the
 * relation messages the library parsed; everything else is the library's. Row values are arrays
 * in column order (RowValues), cheaper to build and read than objects keyed by column name. The
 * library's rules hold: a key-only old tuple holds just the key columns, and an unchanged
 * TOASTed value (`u`) is taken from the old tuple when there is one, else left undefined.
 * lib/replication/decode.ts then turns the text into exact JSON.
 *
 * It wraps PgoutputPlugin rather than extending it because `parse` must be able to return a
 * parse failure as a message: thrown, it would escape the socket's data handler and crash the
 * process; as a message it fails the stream in order, before anything after it is acknowledged.
 *
 * It also counts parsed messages: the stream compares that count with the messages it has
 * finished handling to know that nothing received is still waiting to be handled, and it
 * pauses and resumes the replication socket for the stream's back-pressure.
 */
export class RawTextPgoutputPlugin {
  readonly options: Pgoutput.Options;
  private readonly inner: PgoutputPlugin;
  private readonly relations = new Map<number, Pgoutput.MessageRelation>();
  private readonly reader = new TupleReader();
  parsedCount = 0;
  private socket: Duplex | null = null;

  constructor(options: Pgoutput.Options) {
    this.options = options;
    this.inner = new PgoutputPlugin(options);
  }

  get name(): string {
    return this.inner.name;
  }

  /** Pins the output settings on the replication connection, then starts streaming. */
  async start(client: pg.Client, slotName: string, lastLsn: string): Promise<unknown> {
    // A replication connection takes simple queries only (no parameters); these are constants.
    const calls = OUTPUT_SETTINGS.map(([name, value]) => `set_config('${name}', '${value}', false)`);
    await client.query(`select ${calls.join(", ")}`);
    this.socket = clientSocket(client);
    return this.inner.start(client, slotName, lastLsn);
  }

  /** Stops reading the replication socket: the server stops sending once its buffers fill. */
  pause(): void {
    this.socket?.pause();
  }

  resume(): void {
    this.socket?.resume();
  }

  parse(buffer: Buffer): StreamMessage {
    this.parsedCount++;
    try {
      switch (buffer[0]) {
        case BEGIN:
          return begin(this.reader.reset(buffer));
        case COMMIT:
          return commit(this.reader.reset(buffer));
        case INSERT:
          return this.insert(this.reader.reset(buffer));
        case UPDATE:
          return this.update(this.reader.reset(buffer));
        case DELETE:
          return this.delete(this.reader.reset(buffer));
      }
      const message = this.inner.parse(buffer);
      if (
        message.tag === "begin" ||
        message.tag === "commit" ||
        message.tag === "insert" ||
        message.tag === "update" ||
        message.tag === "delete"
      ) {
        throw new Error(`${message.tag} left to the library's parser`); // unreachable: handled above
      }
      if (message.tag === "relation") this.relations.set(message.relationOid, message);
      return message;
    } catch (error) {
      return { tag: "parse-error", error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  private relation(reader: TupleReader): Pgoutput.MessageRelation {
    const oid = reader.int32();
    const relation = this.relations.get(oid);
    if (!relation) throw new Error(`Row change for relation ${oid >>> 0} before its relation message`);
    return relation;
  }

  private insert(reader: TupleReader): RowInsert {
    const relation = this.relation(reader);
    expectTag(reader.byte(), NEW);
    return { tag: "insert", relation, new: readTuple(reader, relation, null), walStart: undefined };
  }

  private update(reader: TupleReader): RowUpdate {
    const relation = this.relation(reader);
    let key: RowValues | null = null;
    let old: RowValues | null = null;
    let kind = reader.byte();
    if (kind === KEY) key = keyOnly(readTuple(reader, relation, null), relation);
    else if (kind === OLD) old = readTuple(reader, relation, null);
    if (key || old) kind = reader.byte();
    expectTag(kind, NEW);
    return { tag: "update", relation, key, old, new: readTuple(reader, relation, old), walStart: undefined };
  }

  private delete(reader: TupleReader): RowDelete {
    const relation = this.relation(reader);
    const kind = reader.byte();
    if (kind === KEY)
      return {
        tag: "delete",
        relation,
        key: keyOnly(readTuple(reader, relation, null), relation),
        old: null,
        walStart: undefined,
      };
    expectTag(kind, OLD);
    return { tag: "delete", relation, key: null, old: readTuple(reader, relation, null), walStart: undefined };
  }
}

// Parsed here rather than by the library, which makes a bigint of the commit time and zero-pads
// the LSNs: both then had to be converted again for every transaction.
function begin(reader: TupleReader): TransactionBegin {
  const commitLsn = reader.lsn();
  const commitTime = reader.timestamp();
  return { tag: "begin", commitLsn, commitTime, xid: reader.uint32() };
}

function commit(reader: TupleReader): TransactionCommit {
  const flags = reader.byte();
  const commitLsn = reader.lsn();
  const commitEndLsn = reader.lsn();
  return { tag: "commit", flags, commitLsn, commitEndLsn, commitTime: reader.timestamp() };
}

function expectTag(actual: number, expected: number): void {
  if (actual !== expected) {
    throw new Error(`Expected pgoutput '${String.fromCharCode(expected)}', got '${String.fromCharCode(actual)}'`);
  }
}

function readTuple(
  reader: TupleReader,
  relation: Pgoutput.MessageRelation,
  unchangedFrom: RowValues | null,
): RowValues {
  const count = reader.int16();
  if (count > relation.columns.length) {
    throw new Error(
      `Tuple of ${count} columns for ${relation.schema}.${relation.name} with ${relation.columns.length}`,
    );
  }
  const values: RowValues = [];
  for (let i = 0; i < count; i++) {
    const kind = reader.byte();
    if (kind === TEXT) values.push(reader.text(reader.int32()));
    else if (kind === NULL) values.push(null);
    else if (kind === UNCHANGED) values.push(unchangedFrom?.[i]);
    else
      throw new Error(
        `Unsupported pgoutput value kind '${String.fromCharCode(kind)}' in ${relation.schema}.${relation.name}`,
      );
  }
  return values;
}

/** A key tuple carries NULL placeholders for non-key columns: keep only the key columns. */
function keyOnly(tuple: RowValues, relation: Pgoutput.MessageRelation): RowValues {
  return relation.columns.map((column, i) => (column.flags & 1 ? (tuple[i] ?? undefined) : undefined));
}
