/**
 * The agent's Prometheus metrics, on a port of its own and off by default (--metrics-port): jobs
 * running, jobs ended by provider and outcome, their durations, the concurrency, and prom-client's
 * process metrics. One Registry per agent, so that agents embedded in one process stay apart. No
 * token: it listens on 127.0.0.1 unless --metrics-host says otherwise, and holds no job's data
 * (labels are providers and outcomes, never job ids).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly running: Gauge<"provider">;
  private readonly ended: Counter<"provider" | "outcome">;
  private readonly duration: Histogram<"provider" | "outcome">;
  private server: http.Server | null = null;

  constructor(concurrency: number, labels: { pool: string; version: string }) {
    const registers = [this.registry];
    this.registry.setDefaultLabels({ pool: labels.pool });
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "sluice_agent_concurrency",
      help: "Jobs this agent runs at once at most",
      registers,
    }).set(concurrency);
    new Gauge({
      name: "sluice_agent_info",
      help: "The agent's version (value 1)",
      labelNames: ["version"],
      registers,
    }).set({ version: labels.version }, 1);
    this.running = new Gauge({
      name: "sluice_agent_jobs_running",
      help: "Jobs running now, by provider",
      labelNames: ["provider"],
      registers,
    });
    this.ended = new Counter({
      name: "sluice_agent_jobs_total",
      help: "Jobs ended, by provider and outcome (Succeeded, Failed, or Stopped when no result was sent)",
      labelNames: ["provider", "outcome"],
      registers,
    });
    this.duration = new Histogram({
      name: "sluice_agent_job_duration_seconds",
      help: "From taking a job to its end, by provider and outcome",
      labelNames: ["provider", "outcome"],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
      registers,
    });
  }

  /** Call when a job starts; call the function it returns when the job ends, with its outcome. */
  jobStarted(provider: string): (outcome: string) => void {
    this.running.inc({ provider });
    const end = this.duration.startTimer({ provider });
    return (outcome) => {
      this.running.dec({ provider });
      this.ended.inc({ provider, outcome });
      end({ outcome });
    };
  }

  /** Serves GET /metrics; resolves with the port once listening, rejects when the port is taken. */
  async listen(port: number, host: string): Promise<number> {
    const server = http.createServer((req, res) => {
      if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
        res
          .writeHead(404, { "content-type": "text/plain" })
          .end("Not found: the agent serves GET /metrics\n");
        return;
      }
      this.registry.metrics().then(
        (body) => res.writeHead(200, { "content-type": this.registry.contentType }).end(body),
        () => res.writeHead(500, { "content-type": "text/plain" }).end("metrics not collected\n"),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
