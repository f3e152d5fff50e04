import type { StreamMessage } from "../lib/replication/plugin";

/** What the pump hands each message to. */
export type MessageHandler = {
  /** Handles a message; a promise when it has to wait. A throw or a rejection is a failure. */
  dispatch(message: StreamMessage): Promise<void> | undefined;
  /** A message failed: the session fails (and stops the pump). */
  fail(error: unknown): void;
};

/** The replication socket's flow control (RawTextPgoutputPlugin). */
type Socket = { pause(): void; resume(): void };

/**
 * Feeds the replication stream's messages to the session, in order, as the socket's data is
 * parsed: the library's "data" listener calls `receive` for each one. Most messages are handled
 * right there: a row change waits only when it completes a batch and the store is two batches
 * behind, a commit only when its group fills a batch, a relation message for the catalog. One
 * that has to wait pauses the socket; the messages already read behind it (the rest of that read)
 * go to the backlog and are handled in order once it is done, and then the socket is resumed. The
 * library's own flow control does the same with a queue entry and two awaited promises for every
 * message: ~15% of the worker's CPU profile during workload A. This is the hot path: nothing here
 * allocates per message unless the message has to wait.
 */
export class MessagePump {
  /** Messages handled: equal to the plugin's parse count when none is waiting or in the backlog. */
  handled = 0;
  /** Messages read while an earlier one waits, in stream order. */
  private backlog: StreamMessage[] = [];
  /** A message is waiting: the socket is paused and what arrives goes to the backlog. */
  private waiting = false;
  private stopped = false;

  constructor(
    private readonly handler: MessageHandler,
    private readonly socket: Socket,
  ) {}

  /** Nothing more is handled: what arrives from now on is dropped (the next session reads it again). */
  stop(): void {
    this.stopped = true;
  }

  receive(message: StreamMessage): void {
    if (this.waiting) {
      this.backlog.push(message);
      return;
    }
    const waiting = this.handle(message);
    if (waiting) void this.waitThenCatchUp(waiting);
  }

  private async waitThenCatchUp(waiting: Promise<void>): Promise<void> {
    this.waiting = true;
    this.socket.pause();
    let current: Promise<void> | undefined = waiting;
    while (current) {
      await current; // never rejects: handle turns failures into fail()
      current = undefined;
      while (!current && this.backlog.length > 0) {
        const next = this.backlog.shift();
        if (next) current = this.handle(next);
      }
    }
    this.waiting = false;
    this.socket.resume();
  }

  /** Handles one message; a promise when it has to wait, settled once it is handled (or failed). */
  private handle(message: StreamMessage): Promise<void> | undefined {
    if (this.stopped) return undefined;
    try {
      const waiting = this.handler.dispatch(message);
      if (!waiting) {
        this.handled++;
        return undefined;
      }
      return waiting.then(
        () => {
          this.handled++;
        },
        (error: unknown) => this.handler.fail(error),
      );
    } catch (error) {
      this.handler.fail(error);
      return undefined;
    }
  }
}
