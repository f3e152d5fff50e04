import { compareLsn, normalizeLsn } from "../lib/replication/lsn";

/** What the session holds that the store does not, when an event arrives. */
export type Outstanding = {
  /** A source transaction is being received: its BEGIN is handled, its COMMIT not yet. */
  transactionOpen: boolean;
  /** Complete source transactions not committed to the store yet: gathering, being written or committing. */
  storePending: boolean;
};

/** What a keepalive needs besides: whether every message received has been handled. */
export type StreamState = Outstanding & {
  /** Messages the plugin has parsed, and messages the session has finished handling. */
  parsed: number;
  handled: number;
  /** The session no longer handles messages (draining or failed): whatever arrives now is dropped. */
  halted: boolean;
};

const NOTHING = "0/0";

/**
 * The position up to which a source's replication slot may be acknowledged, as data: events in,
 * an LSN out. Pure: the session feeds it and sends what it allows (ReplicationSession.acknowledge).
 *
 * Acknowledging position P tells the server that everything before P is flushed: it keeps no WAL
 * for it, and the next START_REPLICATION skips every transaction whose commit record starts
 * before P. So P must never pass a transaction that is not in the store. It may move to:
 * - the slot's confirmed position when the session starts: acknowledging it again changes
 *   nothing, so it is the safe answer to a keepalive that arrives before anything is stored;
 * - the END of a group's last commit once the group's store transaction has committed: it held
 *   every source transaction received before that one, with the checkpoint, and transactions
 *   arrive in commit order. The end, not end + 1: the next transaction's commit record can start
 *   exactly there (lib/replication/lsn.ts makes the library report exactly this position);
 * - the LSN of a non-transactional message (the heartbeats the worker writes, or any other) that
 *   arrives between transactions when no transaction is open and nothing received is waiting for
 *   the store: the server decodes in WAL order and sends it only after every transaction that
 *   committed before it, and the session first lets the group in flight commit;
 * - the LSN of a server keepalive (the server's send position: every transaction that committed
 *   before it has been sent) when every message received has been handled (the plugin's parse
 *   count equals the handled count: none waits in the backlog), no transaction is open and nothing
 *   is pending or committing. A keepalive while any of that holds moves nothing: the position it
 *   names may cover rows that are not stored yet.
 * It never moves backwards (a keepalive LSN measured before the last group's end changes nothing),
 * and 0/0 is nothing to acknowledge. A replay (transactions at or below the stored checkpoint,
 * resent after a restart) builds no rows, but its transactions still go through group commit, so
 * the position passes them only once that (checkpoint-only) commit is done, like any other.
 */
export class Acknowledgement {
  private position = NOTHING;
  private acknowledgedLsn = NOTHING;
  /** This session got somewhere: a group stored, a message between transactions counted, or a keepalive moved it. */
  progressed = false;

  /** The LSN that may be acknowledged; null while it is 0/0. */
  get lsn(): string | null {
    return this.position === NOTHING ? null : this.position;
  }

  /** Whether `lsn` is past the last one the server took. */
  get isNew(): boolean {
    return compareLsn(this.position, this.acknowledgedLsn) > 0;
  }

  /** The server took `lsn` (the library's acknowledge() resolved true). */
  acknowledged(lsn: string): void {
    this.acknowledgedLsn = maxLsn(this.acknowledgedLsn, normalizeLsn(lsn));
  }

  /** The slot's confirmed position, read when the session starts. */
  slotPosition(lsn: string): void {
    this.advance(lsn);
  }

  /** A group's store transaction committed; `commitEndLsn` is the end of its last source transaction. */
  stored(commitEndLsn: string): void {
    this.advance(commitEndLsn);
    this.progressed = true;
  }

  /** A non-transactional message was handled; returns whether its LSN counted. */
  betweenTransactions(messageLsn: string, outstanding: Outstanding): boolean {
    if (outstanding.transactionOpen || outstanding.storePending) return false;
    this.advance(messageLsn);
    this.progressed = true;
    return true;
  }

  /** A server keepalive carrying the server's send position. */
  keepalive(serverLsn: string, state: StreamState): void {
    const everythingStored =
      !state.halted && !state.transactionOpen && !state.storePending && state.parsed === state.handled;
    if (everythingStored && this.advance(serverLsn)) this.progressed = true;
  }

  /** Moves the position forward to `lsn` if that is ahead; returns whether it moved. */
  private advance(lsn: string): boolean {
    const next = normalizeLsn(lsn);
    if (compareLsn(next, this.position) <= 0) return false;
    this.position = next;
    return true;
  }
}

const maxLsn = (a: string, b: string) => (compareLsn(a, b) >= 0 ? a : b);
