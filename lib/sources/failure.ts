import { AppError } from "../errors";
import { knownSourceError, reachFix, scrubPassword, type SourceConnection } from "./connection";
import { quoteIdent, quoteLiteral } from "./sql";

/**
 * Why a source's capture failed, as the worker records it on the source (lib/sources/status.ts) and the
 * databases pages show it: a message a user can act on and, when there is one, the fix. Never a password or a
 * connection string.
 */
export type SourceFailure = { message: string; fix: string | null };

/** The source as the worker streams it: where it is, as whom, and its slot and publication. */
export type FailingSource = SourceConnection & { slotName: string; publicationName: string };

/** Messages of unknown errors are kept to this many characters: enough to read, not a dump. */
const MAX_MESSAGE = 500;

/** An error's own text, without a connection string, and without `password` when one is given. */
export function safeErrorText(error: unknown, password?: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const scrubbed = message.replace(/postgres(ql)?:\/\/\S+/gi, "[connection string]");
  return password ? scrubPassword(scrubbed, password) : scrubbed;
}

function sqlState(error: unknown): string | undefined {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === "string" ? code : undefined;
}

/**
 * What a failed replication session records. Errors that say what is wrong get the message and fix the connect
 * form gives for them (unreachable, authentication, missing database, TLS: lib/sources/connection.ts), or one of
 * their own when they can only happen while streaming (the server shutting down, the slot or publication gone,
 * the slot in use, the role's REPLICATION privilege or wal_level taken away). Retrace's own errors keep their
 * message and fix (a password the secret cannot decrypt). Anything else keeps its message, made safe and short:
 * it may come from the store as well as the source, and is a clue for whoever reads the worker's log.
 *
 * `source` is null when the failure came before the source's connection details were at hand.
 */
export function describeFailure(error: unknown, source: FailingSource | null): SourceFailure {
  if (error instanceof AppError) {
    const details = error.details as { fix?: unknown } | undefined;
    return { message: error.message, fix: typeof details?.fix === "string" ? details.fix : null };
  }
  if (source) {
    const known = knownSourceError(error, source) ?? streamingFailure(error, source);
    if (known) return known instanceof AppError ? describeFailure(known, null) : known;
  }
  const text = safeErrorText(error, source?.password);
  return { message: text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE - 1)}…` : text, fix: null };
}

/** Failures of a connection that was working: the source went away, or something it needs did. */
function streamingFailure(error: unknown, source: FailingSource): SourceFailure | null {
  const where = `${source.host}:${source.port}`;
  const text = safeErrorText(error, source.password);
  const code = sqlState(error);
  const slot = source.slotName;
  if (code === "57P01" || code === "57P02") {
    return {
      message:
        `${where} closed the connection: the server is shutting down, ` +
        "or an administrator ended Retrace's session.",
      fix:
        "If the server was stopped, start it again. Retrace reconnects by itself, and no change is lost meanwhile: " +
        "the replication slot keeps them.",
    };
  }
  if (/Connection terminated unexpectedly/i.test(text) || code === "EPIPE") {
    return { message: `The connection to ${where} was lost.`, fix: reachFix(source) };
  }
  if (/replication slot .* does not exist/i.test(text)) {
    return {
      message: `The replication slot "${slot}" no longer exists on ${where}.`,
      fix:
        "It was dropped on the source, and the changes it held for Retrace with it. Remove this database in " +
        "Retrace and connect it again: that creates a new slot, and capture starts from then on.",
    };
  }
  if (/publication .* does not exist/i.test(text)) {
    return {
      message: `The publication "${source.publicationName}" no longer exists on ${where}.`,
      fix:
        "It was dropped on the source. Save the database's table selection again (Edit tables): " +
        "Retrace re-creates it.",
    };
  }
  if (code === "55006" && /replication slot/i.test(text)) {
    return {
      message: `The replication slot "${slot}" on ${where} is in use by another connection.`,
      fix:
        "Another Retrace instance with the same store, or a tool such as pg_recvlogical, is reading it. " +
        "Stop that, or end its connection on the source:\n" +
        `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = ${quoteLiteral(slot)};`,
    };
  }
  if (code === "42501" && /replication|WAL sender/i.test(text)) {
    const role = quoteIdent(source.username);
    return {
      message: `The role "${source.username}" may no longer replicate from ${where}.`,
      fix:
        `Give it the privilege back:\nALTER ROLE ${role} WITH REPLICATION;\n` +
        `(on Amazon RDS: GRANT rds_replication TO ${role};)`,
    };
  }
  if (/wal_level/i.test(text) && /logical/i.test(text)) {
    return {
      message: `Logical decoding is off on ${where}: wal_level is no longer "logical".`,
      fix: "ALTER SYSTEM SET wal_level = logical;\nthen restart PostgreSQL.",
    };
  }
  return null;
}
