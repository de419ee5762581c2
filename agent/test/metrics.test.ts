/**
 * The agent's /metrics (--metrics-port): off by default; when on, jobs running, ended and their
 * durations move as a real job runs (real NATS, fake server); a taken port stops the start.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { AgentMetrics } from "../src/metrics";
import type { RunningAgent } from "../src/runtime/start";
import { startTestAgent, stopAgent } from "./support/agents";
import { FakeServer, waitFor } from "./support/fake-server";
import { sample } from "./support/prometheus";
import { fnProvider, type } from "./support/test-providers";

let server: FakeServer;
let agent: RunningAgent | undefined;
beforeAll(async () => {
  server = await FakeServer.start();
});
afterEach(async () => {
  await stopAgent(agent);
  agent = undefined;
});
afterAll(async () => {
  await server?.stop();
});

const metrics = () => new AgentMetrics(2, { pool: "default", version: "9.9.9" });

async function scrape(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

it("serves no metrics unless a port is given", async () => {
  agent = await startTestAgent(server, [
    fnProvider(type("Quiet"), async () => ({ outcome: "Succeeded", summary: "ok" })),
  ]);
  expect(agent.metricsPort).toBeUndefined();
});

it("counts a job while it runs and when it ends", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered = false;
  const provider = fnProvider(type("Metered"), async () => {
    entered = true;
    await gate;
    return { outcome: "Succeeded", summary: "done" };
  });
  agent = await startTestAgent(
    server,
    [provider],
    { metricsPort: 0, metricsHost: "127.0.0.1" },
    { metrics: metrics() },
  );
  const port = agent.metricsPort!;
  expect(port).toBeGreaterThan(0);
  const idle = await scrape(port);
  expect(sample(idle, "sluice_agent_concurrency")).toBe(2);
  expect(sample(idle, "sluice_agent_info", { version: "9.9.9", pool: "default" })).toBe(1);
  expect(sample(idle, "sluice_agent_jobs_running", { provider: "Metered" })).toBeUndefined();

  const job = await server.publishJob(server.job(provider.id));
  await waitFor("the provider to run", () => entered);
  const during = await scrape(port);
  expect(sample(during, "sluice_agent_jobs_running", { provider: "Metered" })).toBe(1);
  expect(during).not.toContain(job.jobId);

  release();
  await waitFor("the complete", () => server.completeOf(job));
  const after = await waitForScrape(
    port,
    (text) => sample(text, "sluice_agent_jobs_total", { provider: "Metered", outcome: "Succeeded" }) === 1,
  );
  expect(sample(after, "sluice_agent_jobs_running", { provider: "Metered" })).toBe(0);
  expect(
    sample(after, "sluice_agent_job_duration_seconds_count", { provider: "Metered", outcome: "Succeeded" }),
  ).toBe(1);
  expect(sample(after, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);

  // Every agent metric the Grafana dashboard plots is one the agent exports.
  const dashboard = fs.readFileSync(path.join(__dirname, "../../ops/grafana-dashboard.json"), "utf8");
  const names = new Set(
    [...dashboard.matchAll(/\b(sluice_agent_[a-z0-9_]+)/g)].map((m) =>
      m[1]!.replace(/_(bucket|count|sum)$/, ""),
    ),
  );
  expect(names.size).toBeGreaterThan(1);
  for (const name of names) expect([name, after.includes(`# TYPE ${name} `)]).toEqual([name, true]);
});

it("does not start when the metrics port is taken, and says which", async () => {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    await expect(
      startTestAgent(
        server,
        [fnProvider(type("Blocked"), async () => ({ outcome: "Succeeded", summary: "ok" }))],
        {
          metricsPort: port,
          metricsHost: "127.0.0.1",
        },
        { metrics: metrics() },
      ),
    ).rejects.toThrow(`cannot serve metrics on 127.0.0.1:${port}`);
  } finally {
    await new Promise((resolve) => taken.close(resolve));
  }
});

async function waitForScrape(port: number, test: (text: string) => boolean): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const text = await scrape(port);
    if (test(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for the metrics:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
