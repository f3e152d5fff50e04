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
