import type pg from "pg";
import { PgoutputPlugin, type Pgoutput } from "pg-logical-replication";

/** What the stream sees: the library's messages, plus a parse failure kept in stream order. */
export type StreamMessage = Pgoutput.Message | { tag: "parse-error"; error: Error };

const keepText = (raw: unknown): unknown => raw;

/**
 * pgoutput with every value kept as PostgreSQL's text.
 *
 * The library's parser attaches `pg.types.getTypeParser(typeOid)` to every column of a
 * relation message and runs it on each value (timestamps become Dates, int8 and numeric lose
 * digits). The parser keeps the relation message it returns as its column cache, so replacing
 * each column's `parser` on that same object makes every later tuple of the relation raw text.
 * lib/replication/decode.ts then turns the text into exact JSON. (`readRelationColumn` is
 * private and `PgoutputParser` is not exported by the package, hence this hook.)
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
  parsedCount = 0;

  constructor(options: Pgoutput.Options) {
    this.options = options;
    this.inner = new PgoutputPlugin(options);
  }

  get name(): string {
    return this.inner.name;
  }

  start(client: pg.Client, slotName: string, lastLsn: string): Promise<unknown> {
    return this.inner.start(client, slotName, lastLsn);
  }

  parse(buffer: Buffer): StreamMessage {
    this.parsedCount++;
    let message: Pgoutput.Message;
    try {
      message = this.inner.parse(buffer);
    } catch (error) {
      return { tag: "parse-error", error: error instanceof Error ? error : new Error(String(error)) };
    }
    if (message.tag === "relation") {
      for (const column of message.columns) column.parser = keepText;
    }
    return message;
  }
}
