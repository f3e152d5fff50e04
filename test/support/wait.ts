export type WaitOptions = {
  /** How long to wait before failing (default 20 s). */
  timeoutMs?: number;
  /** How long between two probes (default 100 ms). */
  intervalMs?: number;
  /** A probe that throws means "not yet" (a server restarting) instead of failing the wait. */
  retryErrors?: boolean;
};

/**
 * Probes until `probe` returns a value (anything but false, null or undefined) and returns it;
 * fails with "Timed out waiting for <what>" after `timeoutMs`. The one polling loop of the tests.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | false | null | undefined>,
  options: WaitOptions = {},
): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 100, retryErrors = false } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = retryErrors ? await probe().catch(() => null) : await probe();
    if (value !== false && value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Ends a node-postgres pool and waits until every one of its connections has closed. `pool.end()` alone resolves
 * once the pool has let go of its clients, while their connections may still be closing: a server stopped right
 * after then kills them mid-goodbye ("terminating connection due to administrator command", uncaught).
 */
export async function endPool(pool: {
  totalCount: number;
  end(): Promise<void>;
  on(event: "remove", f: () => void): unknown;
}): Promise<void> {
  let left = pool.totalCount;
  const closed = new Promise<void>((resolve) => {
    if (left === 0) resolve();
    pool.on("remove", () => {
      left -= 1;
      if (left <= 0) resolve();
    });
  });
  await pool.end();
  await closed;
}
