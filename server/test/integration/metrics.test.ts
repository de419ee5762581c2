import fs from "node:fs";
import path from "node:path";
import type { JobMessage } from "@sluice/protocol";
import { CREATE, simplePipeline } from "../support/documents";
import { sample, total } from "../support/prometheus";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

const METRICS_TOKEN = "metrics-scrape-token-0123456789";

describe("/metrics", () => {
  let t: TestServer;
  let worker: TestWorker;
  let base: string;
  beforeAll(async () => {
    t = await startTestServer({ env: { SLUICE_METRICS_TOKEN: METRICS_TOKEN } });
    base = t.url.replace(/\/graphql$/, "");
    worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], (job) =>
      job.actionTypeId.category === "Source"
        ? { outcome: "Succeeded", outputVariables: { CommitId: "abc123" } }
        : "hold",
    );
  });
  afterAll(async () => {
    await worker?.stop();
    await t?.stop();
  });

  const scrape = async (token: string | null = METRICS_TOKEN) => {
    const response = await fetch(`${base}/metrics`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return {
      status: response.status,
      type: response.headers.get("content-type"),
      text: await response.text(),
    };
  };

  it("needs a token allowed to read metrics; the scrape token allows nothing else", async () => {
    expect((await scrape(null)).status).toBe(401);
    expect((await scrape("not-a-token-at-all-0123456789")).status).toBe(401);
    const scraped = await scrape();
    expect(scraped.status).toBe(200);
    expect(scraped.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect((await scrape(ADMIN_TOKEN)).status).toBe(200);

    const asScraper = await t.gql(`{ pipelines(first: 1) { nodes { name } } }`, {}, { token: METRICS_TOKEN });
    expect(asScraper.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const mutation = await t.gql(CREATE, { input: simplePipeline("nope") }, { token: METRICS_TOKEN });
    expect(mutation.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("the figures move during a run: executions, attempts, dispatch latency, durations, requests", async () => {
    const before = (await scrape()).text;
    expect(sample(before, "sluice_executions", { pipeline: "metered" })).toBeUndefined();
    expect(sample(before, "nodejs_eventloop_lag_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(before, "sluice_db_pool_connections", { state: "total" })).toBeGreaterThanOrEqual(1);

    // A named operation: its name becomes the label of its timings.
    const created = await fetch(t.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({
        query: `mutation CreateMetered($input: PipelineInput!) { createPipeline(input: $input) { name } }`,
        variables: { input: simplePipeline("metered") },
      }),
    });
    dataOf((await created.json()) as never);
    let held: JobMessage | undefined;
    await worker.waitFor((jobs) => {
      held = jobs.find((j) => j.actionTypeId.category === "Build");
      return held !== undefined;
    });

    const during = await eventually(async () => {
      const { text } = await scrape();
      return sample(text, "sluice_actions", { pool: "default", provider: "Shell", state: "running" }) === 1
        ? text
        : undefined;
    });
    expect(sample(during, "sluice_executions", { pipeline: "metered", status: "InProgress" })).toBe(1);
    expect(sample(during, "sluice_action_dispatch_latency_seconds_count", { provider: "Git" })).toBe(1);
    expect(sample(during, "sluice_action_dispatch_latency_seconds_count", { provider: "Shell" })).toBe(1);
    expect(
      sample(during, "sluice_action_duration_seconds_count", { provider: "Git", outcome: "Succeeded" }),
    ).toBe(1);
    expect(
      sample(during, "sluice_graphql_operation_duration_seconds_count", {
        operation: "CreateMetered",
        type: "mutation",
        outcome: "ok",
      }),
    ).toBe(1);
    expect(
      total(during, "sluice_http_request_duration_seconds_count", { route: "/graphql", status: "200" }),
    ).toBeGreaterThanOrEqual(1);
    expect(sample(during, "sluice_outbox_messages")).toBeGreaterThanOrEqual(0);
    expect(sample(during, "sluice_timers_due")).toBeGreaterThanOrEqual(0);
    expect(sample(during, "sluice_results_consumer_pending", { state: "pending" })).toBeGreaterThanOrEqual(0);
    // No execution or attempt id is a label value.
    expect(during).not.toContain(held!.executionId);
    expect(during).not.toContain(held!.jobId);

    await worker.finish(held!, { outcome: "Succeeded" });
    const after = await eventually(async () => {
      const { text } = await scrape();
      return sample(text, "sluice_executions", { pipeline: "metered", status: "Succeeded" }) === 1
        ? text
        : undefined;
    });
    expect(sample(after, "sluice_executions", { pipeline: "metered", status: "InProgress" })).toBeUndefined();
    expect(total(after, "sluice_actions")).toBe(0);
    expect(
      sample(after, "sluice_executions_finished_total", { pipeline: "metered", status: "Succeeded" }),
    ).toBe(1);
    expect(
      sample(after, "sluice_action_duration_seconds_count", { provider: "Shell", outcome: "Succeeded" }),
    ).toBe(1);
  });

  it("every server metric the Grafana dashboard plots is one the server exports", async () => {
    const dashboard = fs.readFileSync(path.join(__dirname, "../../../ops/grafana-dashboard.json"), "utf8");
    const names = new Set(
      [...dashboard.matchAll(/\b((?:sluice|nodejs)_[a-z0-9_]+)/g)]
        .map((m) => m[1]!.replace(/_(bucket|count|sum)$/, ""))
        .filter((name) => !name.startsWith("sluice_agent_") && name !== "sluice_overview"),
    );
    expect(names.size).toBeGreaterThan(10);
    const { text } = await scrape();
    for (const name of names) expect([name, text.includes(`# TYPE ${name} `)]).toEqual([name, true]);
  });
});

describe("/metrics with SLUICE_METRICS_PUBLIC=1", () => {
  let t: TestServer;
  afterAll(async () => {
    await t?.stop();
  });

  it("answers without a token", async () => {
    t = await startTestServer({ env: { SLUICE_METRICS_PUBLIC: "1" } });
    const response = await fetch(t.url.replace(/\/graphql$/, "/metrics"));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("sluice_agents");
  });
});

describe("/metrics with SLUICE_METRICS=0", () => {
  let t: TestServer;
  afterAll(async () => {
    await t?.stop();
  });

  it("collects nothing and serves no /metrics; the API works as before", async () => {
    t = await startTestServer({ env: { SLUICE_METRICS: "0", SLUICE_METRICS_PUBLIC: "1" } });
    const response = await fetch(t.url.replace(/\/graphql$/, "/metrics"), {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain("sluice_");
    dataOf(await t.gql(CREATE, { input: simplePipeline("unmetered") }));
    expect(dataOf(await t.gql(`{ pipelines { nodes { name } } }`)).pipelines.nodes).toEqual([
      { name: "unmetered" },
    ]);
  });
});
