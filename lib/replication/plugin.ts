import type pg from "pg";
import { PgoutputPlugin, type Pgoutput } from "pg-logical-replication";

/** What the stream sees: the library's messages, plus a parse failure kept in stream order. */
export type StreamMessage = Pgoutput.Message | { tag: "parse-error"; error: Error };

/**
 * Output settings of the replication session. pgoutput prints values with the walsender's own
 * settings, and a source database or role can default them to anything (`ALTER DATABASE ... SET
 * extra_float_digits = 0` prints 0.30000000000000004 as 0.3; DateStyle SQL prints 29/02/2024).
 * These are PostgreSQL's shipped defaults, so the store always holds the canonical text form.
 * extra_float_digits 3 is exact on every version (shortest-exact from PostgreSQL 12 on).
 */
export const OUTPUT_SETTINGS: ReadonlyArray<readonly [name: string, value: string]> = [
  ["DateStyle", "ISO"],
  ["IntervalStyle", "postgres"],
  ["extra_float_digits", "3"],
  ["bytea_output", "hex"],
];

/** A tuple as the rows builder reads it: text, null (SQL NULL) or undefined (value not sent). */
type Tuple = Record<string, string | null | undefined>;

// The library's decoder is `new TextDecoder()`, which drops a leading U+FEFF from every value.
const exactUtf8 = new TextDecoder("utf-8", { ignoreBOM: true });

class TupleReader {
  private position = 1; // after the message tag

  constructor(private readonly buffer: Buffer) {}

  byte(): number {
    this.ensure(1);
    return this.buffer.readUInt8(this.position++);
  }

  int16(): number {
    this.ensure(2);
    const value = this.buffer.readUInt16BE(this.position);
    this.position += 2;
    return value;
  }

  int32(): number {
    this.ensure(4);
    const value = this.buffer.readInt32BE(this.position);
    this.position += 4;
    return value;
  }

  text(length: number): string {
    this.ensure(length);
    const value = exactUtf8.decode(this.buffer.subarray(this.position, this.position + length));
    this.position += length;
    return value;
  }

  private ensure(length: number): void {
    if (length < 0 || this.position + length > this.buffer.length) throw new Error("Truncated pgoutput message");
  }
}

const tag = (letter: string) => letter.charCodeAt(0);

/**
 * pgoutput with every value kept as PostgreSQL's exact text.
 *
 * The library's parser runs `pg.types.getTypeParser(typeOid)` on each value (timestamps become
 * Dates, int8 and numeric lose digits) after decoding it with a TextDecoder that strips a leading
 * byte order mark. So row messages (insert, update, delete) are decoded here, against the
 * relation messages the library parsed; everything else is the library's. The tuples keep the
 * library's shape and rules: a key-only old tuple holds just the key columns, and an unchanged
 * TOASTed value (`u`) is taken from the old tuple when there is one, else left undefined.
 * lib/replication/decode.ts then turns the text into exact JSON.
 *
 * It wraps PgoutputPlugin rather than extending it because `parse` must be able to return a
 * parse failure as a message: thrown, it would escape the socket's data handler and crash the
 * process; as a message it fails the stream in order, before anything after it is acknowledged.
 *
 * It also counts parsed messages: the stream compares that count with the messages it has
 * finished handling to know that nothing received is still queued inside the library.
 */
export class RawTextPgoutputPlugin {
  readonly options: Pgoutput.Options;
  private readonly inner: PgoutputPlugin;
  private readonly relations = new Map<number, Pgoutput.MessageRelation>();
  parsedCount = 0;

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
    return this.inner.start(client, slotName, lastLsn);
  }

  parse(buffer: Buffer): StreamMessage {
    this.parsedCount++;
    try {
      switch (buffer[0]) {
        case tag("I"):
          return this.insert(new TupleReader(buffer));
        case tag("U"):
          return this.update(new TupleReader(buffer));
        case tag("D"):
          return this.delete(new TupleReader(buffer));
      }
      const message = this.inner.parse(buffer);
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

  private insert(reader: TupleReader): Pgoutput.MessageInsert {
    const relation = this.relation(reader);
    expectTag(reader.byte(), "N");
    return { tag: "insert", relation, new: readTuple(reader, relation, null) };
  }

  private update(reader: TupleReader): Pgoutput.MessageUpdate {
    const relation = this.relation(reader);
    let key: Tuple | null = null;
    let old: Tuple | null = null;
    let kind = reader.byte();
    if (kind === tag("K")) key = keyOnly(readTuple(reader, relation, null), relation);
    else if (kind === tag("O")) old = readTuple(reader, relation, null);
    if (key || old) kind = reader.byte();
    expectTag(kind, "N");
    return { tag: "update", relation, key, old, new: readTuple(reader, relation, old) };
  }

  private delete(reader: TupleReader): Pgoutput.MessageDelete {
    const relation = this.relation(reader);
    const kind = reader.byte();
    if (kind === tag("K")) return { tag: "delete", relation, key: keyOnly(readTuple(reader, relation, null), relation), old: null };
    expectTag(kind, "O");
    return { tag: "delete", relation, key: null, old: readTuple(reader, relation, null) };
  }
}

function expectTag(actual: number, expected: string): void {
  if (actual !== tag(expected)) throw new Error(`Expected pgoutput '${expected}', got '${String.fromCharCode(actual)}'`);
}

function readTuple(reader: TupleReader, relation: Pgoutput.MessageRelation, unchangedFrom: Tuple | null): Tuple {
  const count = reader.int16();
  if (count > relation.columns.length) {
    throw new Error(`Tuple of ${count} columns for ${relation.schema}.${relation.name} with ${relation.columns.length}`);
  }
  // No prototype: a column may be called __proto__.
  const tuple: Tuple = Object.create(null);
  for (let i = 0; i < count; i++) {
    const column = relation.columns[i];
    if (!column) throw new Error("Column index out of range");
    const kind = reader.byte();
    if (kind === tag("t")) tuple[column.name] = reader.text(reader.int32());
    else if (kind === tag("n")) tuple[column.name] = null;
    else if (kind === tag("u")) tuple[column.name] = unchangedFrom?.[column.name];
    else throw new Error(`Unsupported pgoutput value kind '${String.fromCharCode(kind)}' in ${relation.schema}.${relation.name}`);
  }
  return tuple;
}

/** A key tuple carries NULL placeholders for non-key columns: keep only the key. */
function keyOnly(tuple: Tuple, relation: Pgoutput.MessageRelation): Tuple {
  const key: Tuple = Object.create(null);
  for (const name of relation.keyColumns) key[name] = tuple[name] ?? undefined;
  return key;
}
