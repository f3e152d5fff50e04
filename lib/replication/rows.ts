import type { Pgoutput } from "pg-logical-replication";
import type { Operation } from "../db/schema/changes";
import { CONTEXT_PREFIXES, parseContext } from "./context";
import { decodeValue } from "./decode";
import { normalizeLsn } from "./lsn";
import { microsToTimestamp, nowMicros } from "./time";

/**
 * One row of the `changes` table, ready for the store writer. Row images and context are JSON
 * *text* (cast to jsonb by the store) so numbers keep every digit.
 *
 * Unavailable values: an unchanged TOASTed value (pgoutput `u`) is filled from the old tuple when
 * the source sends one (REPLICA IDENTITY FULL). Without an old tuple the value is unknown; it is
 * then OMITTED from the image (never null, never a placeholder) and its column is listed in
 * `unavailableFields`. The same rule holds for before images built from a key-only old tuple
 * (REPLICA IDENTITY DEFAULT): only the key columns are present. So in `before`/`after`, a key
 * present with `null` is SQL NULL and a missing key means "not known".
 */
export type ChangeRow = {
  environment: string;
  database: string;
  schema: string;
  table: string;
  /** Single-column key: its text form. Composite: JSON array of the text forms. None: null. */
  primaryKey: string | null;
  operation: Operation;
  before: string | null;
  after: string | null;
  /** UPDATE only: columns whose text differs; null when no before image exists to compare. */
  changedFields: string[] | null;
  /** Columns of `after` whose value the WAL did not carry (see above). */
  unavailableFields: string[];
  context: string;
  /** Source xid as decimal text (unsigned 32-bit). */
  transactionId: string;
  commitLsn: string;
  seq: number;
  committedAt: string;
  queuedAt: string;
};

export type SourceInfo = { environment: string; database: string };

/** Primary key columns of a relation in key order ([] = no primary key); undefined = not loaded. */
export type KeyLookup = (relationOid: number) => readonly string[] | undefined;

export type Notice =
  | { kind: "context-ignored"; reason: string }
  | { kind: "unavailable"; schema: string; table: string; columns: string[] };

export type BuiltTransaction = {
  transactionId: string;
  /** LSN of the commit record: the rows' key (with seq). */
  commitLsn: string;
  /** End of the commit record: what the slot may be confirmed up to once this is stored. */
  commitEndLsn: string;
  committedAt: string;
  rows: ChangeRow[];
  notices: Notice[];
};

export type RowMessage =
  | Pgoutput.MessageInsert
  | Pgoutput.MessageUpdate
  | Pgoutput.MessageDelete
  | Pgoutput.MessageTruncate
  | Pgoutput.MessageMessage;

type Tuple = Record<string, unknown>;
type Image = { json: string; unavailable: string[] };

function rawValue(tuple: Tuple, column: string): string | null | undefined {
  const value = tuple[column];
  if (value === null || value === undefined || typeof value === "string") return value;
  // Only reachable if the raw-text plugin was bypassed; refuse rather than store a lossy value.
  throw new Error(`Column ${column} was not delivered as text`);
}

function rowImage(relation: Pgoutput.MessageRelation, tuple: Tuple): Image {
  const fields: string[] = [];
  const unavailable: string[] = [];
  for (const column of relation.columns) {
    const value = rawValue(tuple, column.name);
    if (value === undefined) unavailable.push(column.name);
    else fields.push(`${JSON.stringify(column.name)}:${value === null ? "null" : decodeValue(column.typeOid, value)}`);
  }
  return { json: `{${fields.join(",")}}`, unavailable };
}

function changedFields(relation: Pgoutput.MessageRelation, before: Tuple, after: Tuple): string[] {
  const changed: string[] = [];
  for (const { name } of relation.columns) {
    const oldValue = rawValue(before, name);
    const newValue = rawValue(after, name);
    if (oldValue !== undefined && newValue !== undefined && oldValue !== newValue) changed.push(name);
  }
  return changed;
}

function primaryKey(keyColumns: readonly string[], tuple: Tuple | null): string | null {
  if (!tuple || keyColumns.length === 0) return null;
  const values: string[] = [];
  for (const column of keyColumns) {
    const value = rawValue(tuple, column);
    if (typeof value !== "string") return null;
    values.push(value);
  }
  return values.length === 1 && values[0] !== undefined ? values[0] : JSON.stringify(values);
}

function bigintOf(value: unknown, what: string): bigint {
  if (typeof value !== "bigint") throw new Error(`${what} is not a bigint`);
  return value;
}

type OpenTransaction = {
  transactionId: string;
  commitLsn: string;
  committedAt: string;
  context: string;
  rows: ChangeRow[];
  notices: Notice[];
};

/**
 * Turns one source transaction's pgoutput messages (begin .. commit) into `changes` rows and
 * stitches application context onto them. Pure: no I/O; primary keys come from `keys`.
 */
export class TransactionBuilder {
  private current: OpenTransaction | null = null;

  constructor(
    private readonly source: SourceInfo,
    private readonly keys: KeyLookup,
    private readonly clock: () => bigint = nowMicros,
  ) {}

  get isOpen(): boolean {
    return this.current !== null;
  }

  begin(message: Pgoutput.MessageBegin): void {
    if (this.current) throw new Error("BEGIN inside an open transaction");
    if (!message.commitLsn) throw new Error("BEGIN without a commit LSN");
    this.current = {
      transactionId: String(message.xid >>> 0),
      commitLsn: normalizeLsn(message.commitLsn),
      committedAt: microsToTimestamp(bigintOf(message.commitTime, "commit time")),
      context: "{}",
      rows: [],
      notices: [],
    };
  }

  add(message: RowMessage): void {
    const tx = this.current;
    if (!tx) throw new Error(`${message.tag} outside a transaction`);
    switch (message.tag) {
      case "message":
        return this.contextMessage(tx, message);
      case "insert": {
        const after = rowImage(message.relation, message.new);
        this.push(tx, message.relation, {
          operation: "CREATE",
          primaryKey: primaryKey(this.keyColumns(message.relation), message.new),
          before: null,
          after,
          changedFields: null,
        });
        return;
      }
      case "update": {
        const oldTuple = message.old ?? message.key;
        const after = rowImage(message.relation, message.new);
        this.push(tx, message.relation, {
          operation: "UPDATE",
          primaryKey: primaryKey(this.keyColumns(message.relation), message.new),
          before: oldTuple ? rowImage(message.relation, oldTuple).json : null,
          after,
          changedFields: message.old ? changedFields(message.relation, message.old, message.new) : null,
        });
        return;
      }
      case "delete": {
        const oldTuple = message.old ?? message.key;
        this.push(tx, message.relation, {
          operation: "DELETE",
          primaryKey: primaryKey(this.keyColumns(message.relation), oldTuple),
          before: oldTuple ? rowImage(message.relation, oldTuple).json : null,
          after: null,
          changedFields: null,
        });
        return;
      }
      case "truncate": {
        // The library puts `undefined` in place of a relation it has not seen.
        const relations: unknown[] = message.relations;
        for (const relation of relations) {
          if (!relation) throw new Error("TRUNCATE of an unknown relation");
          this.push(tx, relation as Pgoutput.MessageRelation, {
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

  commit(message: Pgoutput.MessageCommit): BuiltTransaction {
    const tx = this.current;
    if (!tx) throw new Error("COMMIT outside a transaction");
    if (!message.commitLsn || normalizeLsn(message.commitLsn) !== tx.commitLsn) {
      throw new Error(`COMMIT LSN ${message.commitLsn} does not match BEGIN ${tx.commitLsn}`);
    }
    if (!message.commitEndLsn) throw new Error("COMMIT without an end LSN");
    this.current = null;
    return {
      transactionId: tx.transactionId,
      commitLsn: tx.commitLsn,
      commitEndLsn: normalizeLsn(message.commitEndLsn),
      committedAt: tx.committedAt,
      rows: tx.rows,
      notices: tx.notices,
    };
  }

  /** Drops a partly received transaction (the stream restarts and the server resends it). */
  reset(): void {
    this.current = null;
  }

  private keyColumns(relation: Pgoutput.MessageRelation): readonly string[] {
    const columns = this.keys(relation.relationOid);
    if (!columns) throw new Error(`Primary key of ${relation.schema}.${relation.name} was not loaded`);
    return columns;
  }

  /**
   * A context message replaces the context for the changes after it. A malformed one resets it
   * to `{}`: the changes after it belong to whatever that message described, not to the
   * previous context.
   */
  private contextMessage(tx: OpenTransaction, message: Pgoutput.MessageMessage): void {
    if (!message.transactional || !CONTEXT_PREFIXES.has(message.prefix)) return;
    const parsed = parseContext(message.content);
    if (parsed.ok) {
      tx.context = parsed.json;
    } else {
      tx.context = "{}";
      tx.notices.push({ kind: "context-ignored", reason: parsed.reason });
    }
  }

  private push(
    tx: OpenTransaction,
    relation: Pgoutput.MessageRelation,
    change: {
      operation: Operation;
      primaryKey: string | null;
      before: string | null;
      after: Image | null;
      changedFields: string[] | null;
    },
  ): void {
    const unavailableFields = change.after?.unavailable ?? [];
    if (unavailableFields.length > 0) {
      tx.notices.push({ kind: "unavailable", schema: relation.schema, table: relation.name, columns: unavailableFields });
    }
    tx.rows.push({
      environment: this.source.environment,
      database: this.source.database,
      schema: relation.schema,
      table: relation.name,
      primaryKey: change.primaryKey,
      operation: change.operation,
      before: change.before,
      after: change.after?.json ?? null,
      changedFields: change.changedFields,
      unavailableFields,
      context: tx.context,
      transactionId: tx.transactionId,
      commitLsn: tx.commitLsn,
      seq: tx.rows.length,
      committedAt: tx.committedAt,
      queuedAt: microsToTimestamp(this.clock()),
    });
  }
}
