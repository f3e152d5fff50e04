/**
 * Builds the `changes` rows of one source transaction from its pgoutput messages (TransactionBuilder), the
 * worker's hot path. What it builds (rows, notices, batches) is typed in change-row.ts.
 */
import type { Pgoutput } from "pg-logical-replication";
import type { Operation } from "../db/schema/changes";
import {
  NO_CONTEXT,
  rowBytes,
  type BuiltTransaction,
  type ChangeRow,
  type Notice,
  type SourceInfo,
  type TransactionBatch,
} from "./change-row";
import { applyContextMessage, ContextCache, takeRowContext, type ContextSlots } from "./context";
import {
  changedFields,
  excludedChanged,
  bucketOf,
  planRelation,
  primaryKey,
  rowImage,
  type Image,
  type RecordedAs,
  type RelationPlan,
} from "./images";
import type { CatalogLookups, KeyLookup, ShapeLookup, TypeLookup } from "./lookups";
import { compareLsn, normalizeLsn } from "./lsn";
import type { RowDelete, RowInsert, RowUpdate, TransactionBegin, TransactionCommit } from "./plugin";
import { microsToTimestamp, nowMicros } from "./time";

export type RowMessage = RowInsert | RowUpdate | RowDelete | Pgoutput.MessageTruncate | Pgoutput.MessageMessage;

type OpenTransaction = ContextSlots & {
  transactionId: string;
  /** Committed at or below the stored checkpoint: already stored, so it builds no rows. */
  replayed: boolean;
  commitLsn: string;
  committedAt: string;
  /** Rows built since the last batch was taken. */
  rows: ChangeRow[];
  /** Approximate size of `rows` (their JSON text), for batching by volume. */
  pendingBytes: number;
  /** seq of the next row: counts across batches. */
  nextSeq: number;
  notices: Notice[];
};

/**
 * Turns one source transaction's pgoutput messages (begin .. commit) into `changes` rows and
 * stitches application context onto them. Pure: no I/O; primary keys and the decoding of
 * non-built-in column types come from `lookups`.
 *
 * A transaction need not be held whole: the caller may take the rows built so far as a batch at
 * any point (`takeBatch`, e.g. when `pendingRows` or `pendingBytes` passes a limit); `seq`
 * keeps counting across batches, and `commit` returns what is left.
 *
 * Replay: told the stored checkpoint (`skipStoredUpTo`), it builds no rows for transactions
 * committed at or below it. After a restart the server resends from the checkpoint, and every
 * such transaction is already stored (the checkpoint is written in the same store transaction as
 * its rows), so COPY never meets a duplicate. Their COMMIT still returns a transaction (with no
 * rows), so that it is stored and acknowledged like any other.
 */
export class TransactionBuilder {
  private current: OpenTransaction | null = null;
  private readonly keys: KeyLookup;
  private readonly types: TypeLookup;
  private readonly shapes: ShapeLookup;
  private readonly plans = new WeakMap<Pgoutput.MessageRelation, RelationPlan>();
  private readonly contexts = new ContextCache();
  private lastQueued = { micros: -1, text: "" };
  /** Transactions committed at or below this LSN are already stored; null once the stream is past it. */
  private storedUpTo: string | null = null;

  constructor(
    private readonly source: SourceInfo,
    lookups: CatalogLookups,
    /** Microseconds since the Unix epoch, for queuedAt. */
    private readonly clock: () => number = nowMicros,
  ) {
    this.keys = lookups.keys;
    this.types = lookups.types ?? (() => undefined);
    this.shapes = lookups.shapes ?? (() => undefined);
  }

  get isOpen(): boolean {
    return this.current !== null;
  }

  /** Commit time of the open transaction (pgoutput's BEGIN carries it), null when none is open. */
  get openCommittedAt(): string | null {
    return this.current?.committedAt ?? null;
  }

  /** Rows built and not yet taken. */
  get pendingRows(): number {
    return this.current?.rows.length ?? 0;
  }

  /** Approximate bytes of the rows built and not yet taken. */
  get pendingBytes(): number {
    return this.current?.pendingBytes ?? 0;
  }

  /** The stored checkpoint (commit LSN of the last stored transaction; null: none). */
  skipStoredUpTo(checkpointLsn: string | null): void {
    this.storedUpTo = checkpointLsn === null ? null : normalizeLsn(checkpointLsn);
  }

  begin(message: TransactionBegin): void {
    if (this.current) throw new Error("BEGIN inside an open transaction");
    const commitLsn = normalizeLsn(message.commitLsn);
    let replayed = false;
    if (this.storedUpTo !== null) {
      replayed = compareLsn(commitLsn, this.storedUpTo) <= 0;
      // Commit LSNs only grow: once past the checkpoint, nothing more can be a replay.
      if (!replayed) this.storedUpTo = null;
    }
    this.current = {
      transactionId: String(message.xid >>> 0),
      replayed,
      commitLsn,
      committedAt: microsToTimestamp(message.commitTime),
      context: NO_CONTEXT,
      nextRowContext: null,
      nextRowLsn: null,
      rows: [],
      pendingBytes: 0,
      nextSeq: 0,
      notices: [],
    };
  }

  add(message: RowMessage): void {
    // Non-transactional messages are not part of any transaction (pgoutput sends them between
    // transactions, as they are decoded): they carry no context.
    if (message.tag === "message" && !message.transactional) return;
    const tx = this.current;
    if (!tx) throw new Error(`${message.tag} outside a transaction`);
    if (tx.replayed) return;
    switch (message.tag) {
      case "message":
        return this.contextMessage(tx, message);
      case "insert": {
        const plan = this.plan(tx, message.relation);
        const after = rowImage(plan, message.new);
        this.push(tx, plan.recordedAs, plan.unpublished, {
          operation: "CREATE",
          primaryKey: primaryKey(plan, message.new),
          before: null,
          after,
          changedFields: null,
          walStart: message.walStart,
        });
        return;
      }
      case "update": {
        const plan = this.plan(tx, message.relation);
        const oldTuple = message.old ?? message.key;
        const changed = message.old ? changedFields(plan, message.old, message.new) : null;
        // Only changes to excluded columns, and the source asked for those to be skipped. Known only
        // from a whole old tuple (REPLICA IDENTITY FULL); without one the update is recorded.
        if (
          changed?.length === 0 &&
          message.old &&
          plan.rules?.skipExcludedOnly &&
          excludedChanged(plan, message.old, message.new)
        ) {
          return;
        }
        const after = rowImage(plan, message.new);
        this.push(tx, plan.recordedAs, plan.unpublished, {
          operation: "UPDATE",
          primaryKey: primaryKey(plan, message.new),
          before: oldTuple ? rowImage(plan, oldTuple) : null,
          after,
          changedFields: changed,
          walStart: message.walStart,
        });
        return;
      }
      case "delete": {
        const plan = this.plan(tx, message.relation);
        const oldTuple = message.old ?? message.key;
        this.push(tx, plan.recordedAs, plan.unpublished, {
          operation: "DELETE",
          primaryKey: primaryKey(plan, oldTuple),
          before: oldTuple ? rowImage(plan, oldTuple) : null,
          after: null,
          changedFields: null,
          walStart: message.walStart,
        });
        return;
      }
      case "truncate": {
        // The library puts `undefined` in place of a relation it has not seen.
        const relations: unknown[] = message.relations;
        // Bemi's row trigger does not fire on TRUNCATE: a `_bemi` message left waiting (its row
        // was never written) is not this change's. Bemi's worker pairs none with it either.
        tx.nextRowContext = null;
        for (const relation of relations) {
          if (!relation) throw new Error("TRUNCATE of an unknown relation");
          this.push(tx, this.truncated(relation as Pgoutput.MessageRelation), [], {
            operation: "TRUNCATE",
            primaryKey: null,
            before: null,
            after: null,
            changedFields: null,
          });
        }
        return;
      }
    }
  }

  /** Hands over the rows (and notices) built so far; the transaction stays open. */
  takeBatch(): TransactionBatch {
    const tx = this.current;
    if (!tx) throw new Error("No open transaction to take a batch from");
    const batch = this.batchOf(tx);
    tx.rows = [];
    tx.pendingBytes = 0;
    tx.notices = [];
    return batch;
  }

  commit(message: TransactionCommit): BuiltTransaction {
    const tx = this.current;
    if (!tx) throw new Error("COMMIT outside a transaction");
    if (normalizeLsn(message.commitLsn) !== tx.commitLsn) {
      throw new Error(`COMMIT LSN ${message.commitLsn} does not match BEGIN ${tx.commitLsn}`);
    }
    this.current = null;
    // Not `{ ...batch, … }`: that spread cost ~15 µs a transaction (measured on Node 20).
    return Object.assign(this.batchOf(tx), { commitEndLsn: normalizeLsn(message.commitEndLsn), rowCount: tx.nextSeq });
  }

  private batchOf(tx: OpenTransaction): TransactionBatch {
    return {
      transactionId: tx.transactionId,
      commitLsn: tx.commitLsn,
      committedAt: tx.committedAt,
      rows: tx.rows,
      notices: tx.notices,
    };
  }

  /**
   * The relation's plan, made at its first row. The lookups are filled when the relation message
   * is handled, before the rows after it, and a new relation message is a new object: so a
   * plan holds the keys and types as they were looked up for that relation message. Generated
   * columns it lacks are noticed once, when the plan is made.
   */
  private plan(tx: OpenTransaction, relation: Pgoutput.MessageRelation): RelationPlan {
    let plan = this.plans.get(relation);
    if (!plan) {
      const keyColumns = this.keys(relation.relationOid);
      if (!keyColumns) throw new Error(`Primary key of ${relation.schema}.${relation.name} was not loaded`);
      plan = planRelation(
        relation,
        keyColumns,
        this.types,
        this.shapes(relation.relationOid),
        this.source.columnRules,
        this.source.bucketTables,
      );
      this.plans.set(relation, plan);
      if (plan.unpublished.length > 0) {
        tx.notices.push({
          kind: "generated-unpublished",
          schema: plan.recordedAs.schema,
          table: plan.recordedAs.table,
          columns: plan.unpublished,
        });
      }
    }
    return plan;
  }

  /** What a TRUNCATE of `relation` is recorded as: a partition's names its root and itself. */
  private truncated(relation: Pgoutput.MessageRelation): RecordedAs {
    const root = this.shapes(relation.relationOid)?.root;
    const buckets = this.source.bucketTables;
    return root
      ? {
          schema: root.schema,
          table: root.table,
          partitionSchema: relation.schema,
          partitionTable: relation.name,
          bucket: bucketOf(buckets, root.schema, root.table),
        }
      : {
          schema: relation.schema,
          table: relation.name,
          partitionSchema: null,
          partitionTable: null,
          bucket: bucketOf(buckets, relation.schema, relation.name),
        };
  }

  /** Now as a timestamp; the clock ticks in milliseconds, so the text is made once per tick. */
  private queuedAt(): string {
    const micros = this.clock();
    if (micros !== this.lastQueued.micros) this.lastQueued = { micros, text: microsToTimestamp(micros) };
    return this.lastQueued.text;
  }

  /** How each prefix attaches to the changes after it: context.ts (`contextKind`). */
  private contextMessage(tx: OpenTransaction, message: Pgoutput.MessageMessage): void {
    if (!message.transactional) return;
    const ignored = applyContextMessage(tx, message, this.contexts);
    if (ignored !== null) tx.notices.push({ kind: "context-ignored", reason: ignored });
  }

  /** `unpublished`: the relation's generated columns it does not send, unavailable in every image. */
  private push(
    tx: OpenTransaction,
    target: RecordedAs,
    unpublished: string[],
    change: {
      operation: Operation;
      primaryKey: string | null;
      before: Image | null;
      after: Image | null;
      changedFields: string[] | null;
      /** Where the change's WAL record starts (see takeRowContext); undefined for a TRUNCATE. */
      walStart?: string;
    },
  ): void {
    const unsent = change.after?.unavailable ?? [];
    if (unsent.length > 0) {
      tx.notices.push({ kind: "unavailable", schema: target.schema, table: target.table, columns: unsent });
    }
    const unavailableFields =
      unpublished.length === 0 ? unsent : unsent.length === 0 ? unpublished : unsent.concat(unpublished);
    const row: ChangeRow = {
      environment: this.source.environment,
      database: this.source.database,
      schema: target.schema,
      table: target.table,
      primaryKey: change.primaryKey,
      operation: change.operation,
      before: change.before?.json ?? null,
      after: change.after?.json ?? null,
      changedFields: change.changedFields,
      unavailableFields,
      beforeJsonNullFields: change.before?.jsonNulls ?? null,
      afterJsonNullFields: change.after?.jsonNulls ?? null,
      partitionSchema: target.partitionSchema,
      partitionTable: target.partitionTable,
      bucket: target.bucket,
      context: takeRowContext(tx, change.walStart),
      transactionId: tx.transactionId,
      commitLsn: tx.commitLsn,
      seq: tx.nextSeq++,
      committedAt: tx.committedAt,
      queuedAt: this.queuedAt(),
    };
    tx.rows.push(row);
    tx.pendingBytes += rowBytes(row);
  }
}
