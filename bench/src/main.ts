import { runDispatch } from "./dispatch";
import { log, machineFacts } from "./env";
import { runLogs } from "./logs";
import { runMemory } from "./memory";
import { runMetrics } from "./metrics";
import { runFanout } from "./fanout";
import { runLive } from "./live";
import { runPolicies } from "./policies";
import { runNotifications } from "./notifications";
import { runQueries } from "./queries";
import { running } from "./server";
import { runTracing } from "./tracing";
import { runTransport } from "./transport";
import { goalMet, goalText, writeResult, writeResultsMarkdown, type BenchResult } from "./results";

/**
 * `npm run bench [-- <scenario>...] [-- --quick]`: runs the scenarios (all by default), writes
 * bench/results/<name>.json and regenerates bench/RESULTS.md.
 */
const SCENARIOS: Record<string, (quick: boolean) => Promise<BenchResult>> = {
  fanout: (quick) => runFanout({ clients: quick ? 100 : 1000, changes: quick ? 20 : 500 }),
  live: (quick) =>
    runLive({ dashboards: quick ? 50 : 1000, events: quick ? 100 : 1000, pageQueries: quick ? 50 : 300 }),
  dispatch: (quick) =>
    runDispatch({
      pushRuns: quick ? 10 : 100,
      pollRuns: quick ? 2 : 10,
      agents: 4,
      concurrency: 4,
      pollIntervalMs: 1000,
      throughputPipelines: 8,
      throughputWidth: 4,
      throughputInFlight: 2,
      warmupS: quick ? 2 : 5,
      windowS: quick ? 5 : 20,
      artifactMB: quick ? 10 : 100,
      artifactRepeats: quick ? 1 : 3,
      notifyCompare: true,
      notifyRounds: quick ? 2 : 6,
      notifyWarmupS: quick ? 1 : 3,
      notifyWindowS: quick ? 4 : 10,
    }),
  notifications: (quick) => runNotifications({ executions: quick ? 50 : 1000, inFlight: 20 }),
  queries: (quick) =>
    runQueries({ pipelines: quick ? 50 : 10_000, executionsPerPipeline: 100, requests: quick ? 200 : 2000 }),
  policies: (quick) =>
    runPolicies({
      installationPolicies: 1000,
      attachedPolicies: 20,
      statementsPerPolicy: 10,
      checks: quick ? 10_000 : 1_000_000,
    }),
  tracing: (quick) =>
    runTracing({
      rounds: quick ? 2 : 6,
      warmupS: quick ? 1 : 3,
      windowS: quick ? 3 : 10,
      concurrency: 8,
      pipelines: 8,
    }),
  memory: (quick) => runMemory({ pipelines: quick ? 50 : 1000, executionsPerPipeline: quick ? 10 : 100 }),
  metrics: (quick) =>
    runMetrics({
      // 12 rounds: one round's ratio varies by about ±10 % on this machine, which leaves a median
      // of 6 uncertain by about ±3 %, the size of the goal itself.
      rounds: quick ? 2 : 12,
      warmupS: quick ? 1 : 3,
      windowS: quick ? 3 : 10,
      concurrency: 8,
      pipelines: 8,
      scrapeIntervalMs: 1000,
    }),
  transport: (quick) =>
    runTransport({
      rounds: quick ? 2 : 6,
      latencyRuns: quick ? 2 : 10,
      agents: 2,
      concurrency: 4,
      pipelines: 4,
      width: 4,
      inFlight: 2,
      warmupS: quick ? 1 : 3,
      windowS: quick ? 3 : 10,
    }),
  logs: (quick) =>
    runLogs({ lines: quick ? 100_000 : 1_000_000, pageSize: 1000, reads: quick ? 50 : 500, otherLogs: 1 }),
};

/** Interrupted: stop the servers, drop their databases and streams, then exit. */
function onSignal(signal: NodeJS.Signals): void {
  log(`${signal}: cleaning up`);
  const timer = setTimeout(() => process.exit(130), 20_000);
  void Promise.allSettled([...running].map((stop) => stop())).then(() => {
    clearTimeout(timer);
    process.exit(130);
  });
}

async function main(): Promise<void> {
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  const args = process.argv.slice(2);
  const quick = args.includes("--quick");
  // A quick run only checks that the scenarios work: it does not wait for a quiet machine.
  if (quick) process.env.BENCH_QUIET_WAIT_S ??= "0";
  const names = args.filter((a) => !a.startsWith("--"));
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown scenario(s) ${unknown.join(", ")}; known: ${Object.keys(SCENARIOS).join(", ")}\n`,
    );
    process.exit(2);
  }
  let failed = false;
  for (const name of names.length > 0 ? names : Object.keys(SCENARIOS)) {
    log(`${name}: starting${quick ? " (quick)" : ""}`);
    try {
      const facts = machineFacts();
      const result = await SCENARIOS[name]!(quick);
      result.machine = facts;
      if (quick) {
        log(`${name}: quick run, not written`);
        // --details: what a full run writes to results/<name>.json besides the figures
        const shown = args.includes("--details")
          ? { figures: result.figures, details: result.details }
          : result.figures;
        process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
        continue;
      }
      const file = await writeResult(result);
      for (const f of result.figures) {
        const met = goalMet(f);
        const goal = met === null ? "" : `  (goal ${goalText(f)}: ${met ? "met" : "MISSED"})`;
        log(`${name}: ${f.label}: ${f.value} ${f.unit}${goal}`);
      }
      log(`${name}: written to ${file}`);
    } catch (error) {
      failed = true;
      log(`${name}: FAILED: ${(error as Error).stack ?? String(error)}`);
    }
  }
  await writeResultsMarkdown();
  process.exit(failed ? 1 : 0);
}

void main();
