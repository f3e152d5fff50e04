/**
 * PostgreSQL LSNs ("16/B374D848"): parsed, compared, printed, and the one piece of arithmetic
 * the acknowledgement needs.
 */

/** An LSN as its two 32-bit halves (each a number: exact in a double, no bigint needed). */
export type LsnHalves = { high: number; low: number };

const hexDigit = (c: number) =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : NaN;

/** A run of 1 to 8 hex digits as a number, NaN if it is not one. */
function hexWord(text: string, start: number, end: number): number {
  if (end - start < 1 || end - start > 8) return NaN;
  let value = 0;
  for (let i = start; i < end; i++) value = value * 16 + hexDigit(text.charCodeAt(i));
  return value;
}

/**
 * The one LSN parser: 1 to 8 hex digits (either case, zero-padded or not), a slash, 1 to 8 more.
 * Digit by digit rather than with a regular expression and parseInt: ~2.5 times faster (Node 20),
 * and the COPY writer converts the commit LSN of every source transaction it stores.
 */
export function parseLsnHalves(text: string): LsnHalves {
  const slash = text.indexOf("/");
  const high = hexWord(text, 0, slash);
  const low = hexWord(text, slash + 1, text.length);
  if (Number.isNaN(high) || Number.isNaN(low)) throw new Error(`Invalid LSN: ${text}`);
  return { high, low };
}

export function parseLsn(lsn: string): bigint {
  const { high, low } = parseLsnHalves(lsn);
  return (BigInt(high) << 32n) | BigInt(low);
}

/** The canonical text form PostgreSQL prints: no leading zeros, upper-case hex. */
export function formatLsn(value: bigint): string {
  if (value < 0n || value > 0xffffffffffffffffn) throw new Error(`LSN out of range: ${value}`);
  const high = (value >> 32n).toString(16).toUpperCase();
  const low = (value & 0xffffffffn).toString(16).toUpperCase();
  return `${high}/${low}`;
}

// Already canonical: no leading zeros, upper-case hex. Most LSNs the worker meets are.
const CANONICAL_LSN = /^(?:0|[1-9A-F][0-9A-F]{0,7})\/(?:0|[1-9A-F][0-9A-F]{0,7})$/;

export function normalizeLsn(lsn: string): string {
  return CANONICAL_LSN.test(lsn) ? lsn : formatLsn(parseLsn(lsn));
}

export function compareLsn(a: string, b: string): number {
  if (a === b) return 0;
  const left = parseLsnHalves(a);
  const right = parseLsnHalves(b);
  if (left.high !== right.high) return left.high < right.high ? -1 : 1;
  return left.low < right.low ? -1 : left.low > right.low ? 1 : 0;
}

/**
 * pg-logical-replication's `acknowledge(lsn)` reports `lsn + 1` as written/flushed/applied.
 * The server skips, on the next START_REPLICATION, every transaction whose commit record
 * starts before the confirmed flush position, and the next transaction's commit record can
 * start exactly at the previous commit's end LSN (or at a keepalive's send position). Reporting
 * `end + 1` could therefore skip a transaction that was never stored. PostgreSQL's own apply
 * worker reports exactly the end position; this gives the argument that makes the library do
 * the same. Returns null for 0/0 (nothing to acknowledge).
 */
export function libraryAcknowledgeArgument(flushedUpTo: string): string | null {
  const value = parseLsn(flushedUpTo);
  return value === 0n ? null : formatLsn(value - 1n);
}
