import type pg from "pg";
import { LogicalReplicationService } from "pg-logical-replication";
import { libraryAcknowledgeArgument } from "../lib/replication/lsn";
import { RawTextPgoutputPlugin, type StreamMessage } from "../lib/replication/plugin";
import { clientConfig, type SourceConnection } from "../lib/sources/connection";
import { MessagePump, type MessageHandler } from "./message-pump";

/** What the stream reports to its session besides the messages. */
export type StreamHandler = MessageHandler & {
  /** A server keepalive: its LSN is the server's send position; `shouldRespond` asks for a status update. */
  keepalive(lsn: string, shouldRespond: boolean): void;
  /** Streaming has begun. */
  started(): void;
};

/**
 * A slot's pgoutput stream through pg-logical-replication, set up for an audit trail. The library's
 * defaults are unsafe for one (read from its source): its acknowledge timer reports the
 * last *received* position, even with auto-acknowledge off, so both are off and only `acknowledge`
 * reports anything; subscribing without a start LSN resumes from the last received position, so
 * `subscribe` always takes one; its flow control costs a queue entry and two promises per message,
 * so it is off and MessagePump pauses the socket itself. Values arrive as PostgreSQL's exact text
 * (RawTextPgoutputPlugin).
 */
export class ReplicationStream {
  private readonly service: LogicalReplicationService;
  private readonly plugin: RawTextPgoutputPlugin;
  private readonly pump: MessagePump;

  constructor(
    connection: SourceConnection,
    ssl: pg.ClientConfig["ssl"],
    publicationName: string,
    handler: StreamHandler,
  ) {
    this.service = new LogicalReplicationService(clientConfig(connection, ssl, "retrace-worker"), {
      acknowledge: { auto: false, timeoutSeconds: 0 },
      flowControl: { enabled: false },
    });
    this.plugin = new RawTextPgoutputPlugin({ protoVersion: 2, publicationNames: [publicationName], messages: true });
    const pump = new MessagePump(handler, this.plugin);
    this.pump = pump;
    this.service.on("data", (walStart: string, message: StreamMessage) => {
      // Where a row change's record starts: what a `_bemi` message pairs by (the library has
      // already made the string for every message).
      if (message.tag === "insert" || message.tag === "update" || message.tag === "delete") message.walStart = walStart;
      pump.receive(message);
    });
    this.service.on("heartbeat", (lsn: string, _time: number, shouldRespond: boolean) =>
      handler.keepalive(lsn, shouldRespond),
    );
    this.service.on("error", (error: Error) => handler.fail(error));
    this.service.on("start", () => handler.started());
  }

  /** Messages parsed, and messages handled: equal when none is waiting to be handled. */
  get parsed(): number {
    return this.plugin.parsedCount;
  }

  get handled(): number {
    return this.pump.handled;
  }

  /**
   * Streams from `startLsn` (a stored checkpoint, or 0/0: the server starts at the slot's
   * confirmed position) until stopped (resolves) or broken (rejects).
   */
  subscribe(slotName: string, startLsn: string): Promise<unknown> {
    return this.service.subscribe(this.plugin, slotName, startLsn);
  }

  /**
   * Reports everything before `lsn` as flushed: the server keeps no WAL for it and will not send it
   * again. Only ever a position worker/acknowledgement.ts allows. Resolves whether it was sent.
   */
  async acknowledge(lsn: string): Promise<boolean> {
    const argument = libraryAcknowledgeArgument(lsn);
    return argument !== null && (await this.service.acknowledge(argument));
  }

  /** Nothing more is handled; the connection closes. */
  async stop(): Promise<void> {
    this.pump.stop();
    await this.service.stop().catch(() => undefined);
    this.service.removeAllListeners();
  }

  /** Messages that arrive from now on are dropped (the next session reads them again). */
  halt(): void {
    this.pump.stop();
  }
}
