import { machineFacts } from "./env";
import { compareReleases, type CompareOptions } from "./release-compare";
import type { BenchResult } from "./results";
import { startChildServer, type ChildServer } from "./server";
import { summarize } from "./stats";

/**
 * What metrics cost the server: two server processes, one with SLUICE_METRICS=0 (nothing
 * collected, no /metrics), one as shipped (metrics on) whose /metrics the bench scrapes every
 * `scrapeIntervalMs` while it is driven, as Prometheus would, compared by `compareReleases`
 * (release-compare.ts). The figure is the median of the rounds' ratios, on ÷ off.
 */
export interface MetricsOptions extends CompareOptions {
  scrapeIntervalMs: number;
}

/** Scrapes `server`'s /metrics every `intervalMs` until the returned stop is called. */
function scrape(
  server: ChildServer,
  intervalMs: number,
  seen: { scrapes: number; ms: number[]; bytes: number },
) {
  const url = server.url.replace(/\/graphql$/, "/metrics");
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const started = performance.now();
      const response = await fetch(url, { headers: { authorization: `Bearer ${server.token}` } });
      const text = await response.text();
      if (response.status !== 200)
        throw new Error(`/metrics answered ${response.status}: ${text.slice(0, 200)}`);
      seen.scrapes += 1;
      seen.bytes += text.length;
      seen.ms.push(performance.now() - started);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

export async function runMetrics(options: MetricsOptions): Promise<BenchResult> {
  const off = await startChildServer({ env: { SLUICE_METRICS: "0" } });
  const on = await startChildServer();
  const seen = { scrapes: 0, ms: [] as number[], bytes: 0 };
  try {
    const probe = await fetch(off.url.replace(/\/graphql$/, "/metrics"), {
      headers: { authorization: `Bearer ${off.token}` },
    });
    if (probe.status !== 404) throw new Error(`SLUICE_METRICS=0 still serves /metrics (${probe.status})`);
    const { scrapeIntervalMs, ...compare } = options;
    const result = await compareReleases("metered", { off, on }, compare, (server) =>
      server === on ? scrape(on, scrapeIntervalMs, seen) : async () => undefined,
    );
    const scrapeMs = summarize(seen.ms, 1);
    return {
      name: "metrics",
      title:
        "Metrics: releaseChange throughput with metrics collected and /metrics scraped, and with SLUICE_METRICS=0",
      date: new Date().toISOString(),
      machine: machineFacts(),
      parameters: { ...options },
      figures: [
        { label: "releaseChange/s, metrics off (SLUICE_METRICS=0)", value: result.off, unit: "releases/s" },
        {
          label: `releaseChange/s, metrics on (scraped every ${scrapeIntervalMs / 1000} s)`,
          value: result.on,
          unit: "releases/s",
        },
        {
          label: "throughput with metrics on ÷ off",
          value: result.ratio,
          unit: "×",
          goalMin: 0.97,
          note: `median of ${result.rounds.length} interleaved ${options.windowS} s windows`,
        },
      ],
      notes: [
        `${seen.scrapes} scrapes of /metrics (p50 ${scrapeMs.p50} ms, max ${scrapeMs.max} ms, ${Math.round(seen.bytes / Math.max(1, seen.scrapes) / 1024)} KiB each); ${result.errors} releases answered an error.`,
        "Metrics on: HTTP and GraphQL duration histograms per request, the engine's decision hook, prom-client's default metrics (event-loop monitor), and the database figures read at each scrape (at most once per 2 s).",
        result.loadNote,
      ],
      details: { rounds: result.rounds, scrapeMs },
    };
  } finally {
    await Promise.allSettled([off.stop(), on.stop()]);
  }
}
