/**
 * PostgreSQL LSNs ("16/B374D848") as bigints, for comparing and for the one piece of arithmetic
 * the acknowledgement needs.
 */
const LSN_PATTERN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function parseLsn(lsn: string): bigint {
  const match = LSN_PATTERN.exec(lsn);
  if (!match?.[1] || !match[2]) throw new Error(`Invalid LSN: ${lsn}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
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

/** The two halves as numbers (each fits a double exactly): compared without bigints. */
function halves(lsn: string): [number, number] {
  const match = LSN_PATTERN.exec(lsn);
  if (!match?.[1] || !match[2]) throw new Error(`Invalid LSN: ${lsn}`);
  return [parseInt(match[1], 16), parseInt(match[2], 16)];
}

export function compareLsn(a: string, b: string): number {
  if (a === b) return 0;
  const [aHigh, aLow] = halves(a);
  const [bHigh, bLow] = halves(b);
  if (aHigh !== bHigh) return aHigh < bHigh ? -1 : 1;
  return aLow < bLow ? -1 : aLow > bLow ? 1 : 0;
}

/**
 * pg-logical-replication's `acknowledge(lsn)` reports `lsn + 1` as written/flushed/applied.
 * The server skips, on the next START_REPLICATION, every transaction whose commit record
 * starts before the confirmed flush position, and the next transaction's commit record can
 * start exactly at the previous commit's end LSN (or at a keepalive's send position). Reporting
 * `end + 1` could therefore skip a transaction that was never stored. PostgreSQL's own apply
 * worker reports exactly the end position; this gives the argument that makes the library do
 * the same. Returns null for 0/0 (nothing to confirm).
 */
export function libraryAckArgument(flushedUpTo: string): string | null {
  const value = parseLsn(flushedUpTo);
  return value === 0n ? null : formatLsn(value - 1n);
}
