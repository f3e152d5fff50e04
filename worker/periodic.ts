import type { Logger } from "pino";

export type PeriodicJob = {
  /** Settles once the first round is done (or failed). */
  readonly firstRound: Promise<void>;
  /** No round starts after this; waits for the one running, then `close`. */
  stop(): Promise<void>;
};

/**
 * A job the worker runs beside ingest (sealer, partition keeper, baselines): a first round at once, then each
 * round `round` returns the delay to the next one after. A failed round is logged as `failure` and the next one
 * comes `retryMs` later; rounds never overlap.
 */
export function startPeriodic(options: {
  logger: Logger;
  failure: string;
  retryMs: number;
  round: (stopping: () => boolean) => Promise<number>;
  close: () => Promise<void>;
}): PeriodicJob {
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;

  function run(): Promise<void> {
    return options
      .round(() => stopping)
      .catch((error: unknown) => {
        options.logger.warn(
          { err: { message: error instanceof Error ? error.message : String(error) } },
          options.failure,
        );
        return options.retryMs;
      })
      .then((delayMs) => {
        if (!stopping) timer = setTimeout(() => (running = run()), delayMs);
      });
  }

  let running = run();
  const firstRound = running;
  return {
    firstRound,
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await running;
      await options.close();
    },
  };
}
