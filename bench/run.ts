/**
 * `npm run bench [-- --scale <factor>] [-- --only a,b,c,lag,browse,scale]`: Retrace's ingest measured against
 * pg_recvlogical on this machine, on its own throwaway store and source servers.
 * Prints a table and writes bench/results.json (keeping what earlier runs measured of the workloads this one did not:
 * bench/results-file.ts). Not part of `npm test`; it measures, it does not
 * fail on a missed target (it exits non-zero only when it cannot run at all).
 */
import fs from "node:fs";
import path from "node:path";
import { buildWorker } from "../lib/cli/processes";
import { runBrowse, type BrowseResult } from "./browse";
import { runLag, type LagResult } from "./lag";
import { parseOptions } from "./options";
import { mergeResults, type ResultsFile } from "./results-file";
import { killChildren, ROOT } from "./processes";
import { browseTable, lagTable, machineLine, NOTES, throughputTable } from "./report";
import { runScale, type ScaleResult } from "./scale";
import { scaleTable } from "./scale-report";
import {
  describeMachine,
  findPgRecvlogical,
  SOURCE_FLAGS,
  startBenchServers,
  STORE_FLAGS,
  type BenchServers,
} from "./servers";
import { runThroughput, type ThroughputResult } from "./throughput";
import { throughputWorkloads } from "./workloads";

const RESULTS_FILE = path.join(ROOT, "bench", "results.json");

/** The results file as the last runs left it; null when there is none or it cannot be read. */
function readResults(): ResultsFile | null {
  try {
    return JSON.parse(fs.readFileSync(RESULTS_FILE, "utf8")) as ResultsFile;
  } catch {
    return null;
  }
}

function log(line: string): void {
  const stamp = new Date().toISOString().slice(11, 19);
  console.log(`[${stamp}] ${line}`);
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));

  const pgRecvlogical = findPgRecvlogical();
  if (!pgRecvlogical) {
    console.error(
      "pg_recvlogical was not found (looked on PATH and in /usr/lib/postgresql/*/bin).\n" +
        "The benchmark compares Retrace with it. Install Debian's PostgreSQL client tools:\n\n" +
        "  apt-get update && apt-get install -y postgresql-client\n",
    );
    return 1;
  }

  const began = performance.now();
  log(`scale ${options.scale}, workloads ${options.only.join(", ")}; pg_recvlogical at ${pgRecvlogical}`);
  log("starting the store and source servers");
  let servers: BenchServers | null = null;
  const interrupt = (signal: NodeJS.Signals) => {
    console.error(`\n${signal}: stopping the worker and the servers`);
    killChildren();
    const stopping = servers?.stop() ?? Promise.resolve();
    void stopping.finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);

  const throughput: ThroughputResult[] = [];
  let lag: LagResult | null = null;
  let browse: BrowseResult | null = null;
  let scale: ScaleResult | null = null;
  try {
    servers = await startBenchServers();
    // The worker runs from its bundle, as `retrace start` runs it (built outside every timing).
    await buildWorker();
    const machine = await describeMachine(servers, pgRecvlogical);
    log(machineLine(machine));

    for (const workload of throughputWorkloads(options.scale)) {
      if (!options.only.includes(workload.name)) continue;
      log(`— ${workload.label}`);
      throughput.push(await runThroughput(servers, workload, pgRecvlogical, (line) => log(`  ${line}`)));
    }
    if (options.only.includes("lag")) {
      log("— steady load");
      lag = await runLag(servers, options.scale, (line) => log(`  ${line}`));
    }
    if (options.only.includes("browse")) {
      log("— browse");
      browse = await runBrowse(servers, options.scale, (line) => log(`  ${line}`));
    }
    if (options.only.includes("scale")) {
      log("— scale");
      if (options.only.length > 1) {
        // Its trail must hold its own changes only: fresh servers (which also frees the others' disk).
        await servers.stop();
        servers = null;
        servers = await startBenchServers();
      }
      scale = await runScale(servers, options.scale, (line) => log(`  ${line}`));
      if (scale.refused && scale.steps.length === 0) {
        console.error(`\n${scale.refused}\n`);
        if (options.only.length === 1) return 1; // nothing measured: results.json stays as it was
      }
    }

    const runtimeSeconds = Math.round((performance.now() - began) / 1000);
    const results = {
      timestamp: new Date().toISOString(),
      scaleFactor: options.scale,
      workloads: options.only,
      runtimeSeconds,
      machine,
      serverFlags: { source: SOURCE_FLAGS.filter((f) => f !== "-c"), store: STORE_FLAGS.filter((f) => f !== "-c") },
      throughput,
      lag,
      browse,
      scale,
      notes: NOTES,
    };
    const merged = mergeResults(readResults(), results as unknown as ResultsFile);
    fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(merged, null, 2)}\n`);

    console.log("");
    console.log(`Retrace ingest benchmark — scale ${options.scale}, ${new Date().toISOString().slice(0, 10)}`);
    console.log(`Machine: ${machineLine(machine)}`);
    console.log("");
    if (throughput.length > 0) console.log(throughputTable(throughput), "\n");
    if (lag) console.log(lagTable(lag), "\n");
    if (browse) console.log(browseTable(browse), "\n");
    if (scale) console.log(scaleTable(scale), "\n");
    for (const note of NOTES) console.log(`- ${note}`);
    const errors = [
      ...throughput.flatMap((r) => r.errors.map((e) => `${r.label}: ${e}`)),
      ...(lag?.errors.map((e) => `steady load: ${e}`) ?? []),
      ...(browse?.errors.map((e) => `browse: ${e}`) ?? []),
      ...(scale?.errors.map((e) => `scale: ${e}`) ?? []),
      ...(scale?.refused ? [`scale: ${scale.refused}`] : []),
    ];
    if (errors.length > 0) {
      console.log("\nProblems seen:");
      for (const error of errors) console.log(`- ${error}`);
    }
    console.log(`\nRuntime ${runtimeSeconds} s. Results written to ${path.relative(process.cwd(), RESULTS_FILE)}.`);
    return 0;
  } finally {
    killChildren();
    await servers?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    killChildren();
    process.exit(1);
  },
);
