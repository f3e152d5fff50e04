import { parseArgs } from "node:util";

export const WORKLOAD_NAMES = ["a", "b", "c", "lag", "browse", "scale"] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];
/** What a run without --only measures: everything but the scale workload (hours at full size). */
const DEFAULT_WORKLOADS: WorkloadName[] = ["a", "b", "c", "lag", "browse"];

export type BenchOptions = {
  /** Multiplies every workload's size (and the lag run's duration). 1 is the full benchmark. */
  scale: number;
  /** The workloads to run, in order. */
  only: WorkloadName[];
};

const USAGE = `Usage: npm run bench -- [--scale <factor>] [--only <a,b,c,lag,browse,scale>]

  --scale <factor>  size of every workload relative to the full benchmark (default 1;
                    0.02 is a quick check of the harness)
  --only <names>    comma-separated subset of: a (1M changes as 1000-row transactions),
                    b (200k single-row transactions), c (one 1M-row transaction),
                    lag (commit-to-stored latency at a steady 2k transactions/s),
                    browse (10M changes in three environments, then every filter of the
                    change list timed through the web app; --scale 0.1 is 1M changes),
                    scale (only when named: the browse workload's changes stored to 10M,
                    then to 50M, ingest and browse measured at each; --scale 0.01 is
                    100k then 500k; servers of its own; ~60 GB of disk at scale 1)`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      scale: { type: "string" },
      only: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const scale = values.scale === undefined ? 1 : Number(values.scale);
  if (!Number.isFinite(scale) || scale <= 0 || scale > 10) {
    throw new Error(`--scale must be a number in (0, 10], got ${values.scale}\n\n${USAGE}`);
  }
  let only: WorkloadName[] = [...DEFAULT_WORKLOADS];
  if (values.only !== undefined) {
    const names = values.only
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean);
    const unknown = names.filter((name) => !(WORKLOAD_NAMES as readonly string[]).includes(name));
    if (unknown.length > 0 || names.length === 0) {
      throw new Error(`--only takes ${WORKLOAD_NAMES.join(", ")}; got ${values.only}\n\n${USAGE}`);
    }
    only = WORKLOAD_NAMES.filter((name) => names.includes(name));
  }
  return { scale, only };
}
