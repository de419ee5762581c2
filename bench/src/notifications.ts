import http from "node:http";
import type { AddressInfo } from "node:net";
import { log, machineFacts } from "./env";
import { GraphQLHttpClient } from "./gql";
import { OthersCpu, waitForQuiet } from "./quiet";
import type { BenchResult } from "./results";
import { startChildServer } from "./server";
import { nowMs, sleep, summarize } from "./stats";
import { GIT, JobResponder, SHELL } from "./worker";

const PIPELINE = "notify";
const CREATE = `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name version } }`;
const RELEASE = `mutation { releaseChange(pipelineName: "${PIPELINE}") { id } }`;
const TARGET = `mutation ($t: NotificationTargetInput!) { createNotificationTarget(target: $t) { id } }`;
const RULE = `mutation ($r: NotificationRuleInput!) { createNotificationRule(rule: $r) { id } }`;

const action = (name: string, category: string, provider: string, extra: Record<string, unknown> = {}) => ({
  name,
  actionTypeId: { category, owner: "Sluice", provider, version: "1" },
  ...extra,
});
const notifyPipeline = {
  name: PIPELINE,
  executionMode: "PARALLEL",
  stages: [
    {
      name: "Source",
      actions: [
        action("Checkout", "Source", "Git", {
          configuration: { Repository: "https://git.example/app.git", Branch: "main" },
          outputArtifacts: [{ name: "Src" }],
        }),
      ],
    },
    {
      name: "Build",
      actions: [action("Compile", "Build", "Shell", { configuration: { Commands: "true" }, inputArtifacts: [{ name: "Src" }] })],
    },
  ],
}; // prettier-ignore

export interface NotificationsOptions {
  executions: number;
  /** Executions started and not yet finished at most. */
  inFlight: number;
}

/**
 * Scenario: `options.executions` executions of a two-stage pipeline finish, each matched by a rule
 * (EXECUTION_SUCCEEDED → a webhook target in this process); for each message, the time from the
 * event (its `at`, taken in the engine's transaction) to the receiver having its body.
 */
export async function runNotifications(options: NotificationsOptions): Promise<BenchResult> {
  const latencies: number[] = [];
  const ids = new Set<string>();
  let duplicates = 0;
  let resolveAll: () => void = () => {};
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const expected = options.executions + 1; // the pipeline's own first execution too
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      const received = Date.now();
      res.writeHead(204).end();
      const message = JSON.parse(body) as { id: string; at: string };
      if (ids.has(message.id)) {
        duplicates++;
        return;
      }
      ids.add(message.id);
      latencies.push(received - Date.parse(message.at));
      if (ids.size >= expected) resolveAll();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const port = (receiver.address() as AddressInfo).port;
  // Plain HTTP to a receiver on this machine: the figure is Sluice's path, not a TLS handshake.
  const server = await startChildServer({
    env: { SLUICE_NOTIFY_ALLOW_HTTP: "true", SLUICE_NOTIFY_ALLOW_PRIVATE: "true" },
  });
  const gql = new GraphQLHttpClient(server.url, server.token);
  const responder = await JobResponder.start(server.natsPrefix, [GIT, SHELL("Build")], () => ({
    outcome: "Succeeded",
  }));
  try {
    const target = await gql.data<{ createNotificationTarget: { id: string } }>(TARGET, {
      t: { name: "bench", kind: "WEBHOOK", url: `http://127.0.0.1:${port}/bench` },
    });
    await gql.data(RULE, {
      r: {
        name: "bench",
        pipelineName: PIPELINE,
        eventTypes: ["EXECUTION_SUCCEEDED"],
        targetIds: [target.createNotificationTarget.id],
      },
    });
    const quiet = await waitForQuiet(server.pid);
    log(`notifications: ${options.executions} executions, ${options.inFlight} in flight`);
    const cpu = new OthersCpu(server.pid);
    const started = nowMs();
    await gql.data(CREATE, { input: notifyPipeline });
    // Releases in order, at most `inFlight` executions unfinished (counted by messages received).
    for (let i = 0; i < options.executions; i++) {
      while (i + 1 - ids.size >= options.inFlight) await sleep(5);
      await gql.data(RELEASE);
    }
    const timeout = new Promise<"timeout">((resolve) =>
      setTimeout(() => resolve("timeout"), 300_000).unref(),
    );
    if ((await Promise.race([all, timeout])) === "timeout") {
      throw new Error(`only ${ids.size} of ${expected} messages arrived within 5 minutes`);
    }
    const wallMs = nowMs() - started;
    const used = cpu.read();
    const latency = summarize(latencies);
    return {
      name: "notifications",
      title: `Notifications: ${options.executions.toLocaleString("en-US")} executions finishing, a rule each, one server process`,
      date: new Date().toISOString(),
      machine: machineFacts(),
      parameters: {
        executions: options.executions,
        inFlight: options.inFlight,
        pipeline: "PARALLEL, Source (Git) → Build (Shell), jobs answered at once by an in-process responder",
        rule: "EXECUTION_SUCCEEDED of the pipeline → one WEBHOOK target (plain HTTP, in the bench process)",
        server: "server/dist/src/main.js as a child process, PostgreSQL, NATS JetStream, LOG_LEVEL=info",
      },
      figures: [
        {
          label: "event → receiver, p50",
          value: latency.p50,
          unit: "ms",
          note: "receive time minus the event's `at`",
        },
        { label: "event → receiver, p99", value: latency.p99, unit: "ms" },
        { label: "event → receiver, max", value: latency.max, unit: "ms" },
        { label: "messages received", value: ids.size, unit: "", goalMin: expected },
        { label: "duplicates received", value: duplicates, unit: "", goalMax: 0 },
        { label: "executions per second", value: Math.round((expected / wallMs) * 10_000) / 10, unit: "/s" },
      ],
      notes: [
        "`at` is taken in the engine's transaction before it commits; the path measured is the outbox trigger " +
          "writing the inbox row, the worker being kicked by the commit (or its 500 ms poll), dispatch, claim, " +
          "the POST and the receiver reading the body.",
        `CPU over the run: server ${Math.round(used.server)} ms, bench ${Math.round(used.bench)} ms, ` +
          `PostgreSQL and NATS ${Math.round(used.services)} ms, others ${Math.round(used.others)} ms over ` +
          `${Math.round(wallMs)} ms of wall time.` +
          (used.othersShareOfCore > 0.05
            ? ` Other processes used ${Math.round(used.othersShareOfCore * 100)} % of a core: the figures are skewed by them.`
            : "") +
          (quiet.quiet ? "" : " The machine was not quiet when the run started."),
      ],
      details: { latency, latenciesMs: latencies },
    };
  } finally {
    await responder.stop();
    await server.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}
