/**
 * `COPY … FROM STDIN` with all of its data, written to the connection in one go, and if asked
 * before its turn: while the statement ahead of it still runs.
 *
 * pg-copy-streams (like libpq's usual use) sends the statement once the connection is free,
 * waits for the server's CopyInResponse, and only then sends the data. Each of those steps waits
 * for a turn of this process's event loop, which in the worker is often busy for milliseconds at
 * a time (decoding, encoding the next batch, garbage collection), and the store's backend waits
 * meanwhile: sampled in pg_stat_activity during a run of 1000-row transactions, it sat in
 * ClientRead ~13% of the time inside a COPY and ~8% between two. Here the statement, its
 * CopyData and its CopyDone leave together, and `sendNow` puts them on the wire behind the
 * statement still running, so the backend goes from one COPY to the next without waiting for
 * this process.
 *
 * The protocol allows it: the server reads each message when it gets to it, and if a statement
 * fails, the CopyData and CopyDone behind it are skipped ("accept but ignore these messages",
 * PostgresMain) and a statement sent behind a failed one in the same transaction fails too.
 *
 * A pg Submittable: `client.query(copy)` queues it like any query (pg hands it the connection
 * when its turn comes, and its answers arrive in order); `done` settles with the number of rows
 * the server reports, or its error.
 */
export class CopyIn {
  readonly done: Promise<number>;
  private resolve: (rows: number) => void = () => undefined;
  private reject: (error: Error) => void = () => undefined;
  private rows = 0;
  private failed = false;
  private sent = false;

  constructor(
    private readonly text: string,
    private readonly data: Buffer,
  ) {
    this.done = new Promise<number>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Writes the statement, its data and CopyDone now (once). */
  sendNow(stream: CopyStream): void {
    if (this.sent) return;
    this.sent = true;
    const statement = Buffer.from(`Q\0\0\0\0${this.text}\0`, "utf8");
    statement.writeUInt32BE(statement.length - 1, 1);
    const dataHeader = Buffer.alloc(5);
    dataHeader[0] = 0x64; // CopyData
    dataHeader.writeUInt32BE(this.data.length + 4, 1);
    stream.cork();
    stream.write(statement);
    stream.write(dataHeader);
    stream.write(this.data);
    stream.write(COPY_DONE);
    stream.uncork();
  }

  /** pg: its turn on the connection. */
  submit(connection: { stream: CopyStream }): void {
    this.sendNow(connection.stream);
  }

  /** The data went out with the statement. */
  handleCopyInResponse(): void {}

  handleCommandComplete(message: { text?: string }): void {
    const match = /^COPY (\d+)/.exec(message.text ?? "");
    if (match?.[1]) this.rows = Number(match[1]);
  }

  handleError(error: Error): void {
    this.failed = true;
    this.reject(error);
  }

  handleReadyForQuery(): void {
    if (!this.failed) this.resolve(this.rows);
  }

  /** pg calls it when the query ends; `done` already says how. */
  callback(): void {}
}

const COPY_DONE = Buffer.from([0x63, 0, 0, 0, 4]);

type CopyStream = { cork(): void; uncork(): void; write(chunk: Buffer): boolean };
