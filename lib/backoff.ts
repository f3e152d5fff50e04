/**
 * Delay before retry number `attempt` (0 for the first): exponential from `minMs`, capped at
 * `maxMs`, with equal jitter (half the delay fixed, half random, never below the minimum), so
 * that many retrying at once spread out. Used by the worker's source streams and by the
 * supervisor that starts a dead worker again.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** attempt);
  return Math.max(minMs, Math.round(base / 2 + random() * (base / 2)));
}
