import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { log, machineFacts } from "./env";
import { GraphQLHttpClient } from "./gql";
import type { BenchResult } from "./results";
import { startChildServer, type ChildServer } from "./server";
import { nowMs, summarize } from "./stats";

/**
 * What tracing costs the server: two server processes, one exporting OpenTelemetry spans over
 * OTLP/HTTP (protobuf, the default) to a receiver in the bench process, one without an endpoint
 * (the SDK not loaded). Each takes `releaseChange` mutations from `concurrency` clients in turn,
 * in interleaved windows (ABBA), over `pipelines` SUPERSEDED pipelines: every release is a
 * GraphQL operation, an engine transaction and an outbox publish of its first job (no agent runs
 * it: the spans per release are those of the server's request path). The figure is the median of
 * the rounds' ratios, on ÷ off.
 */
export interface TracingOptions {
  rounds: number;
  warmupS: number;
  windowS: number;
  concurrency: number;
  pipelines: number;
}

const RELEASE = `mutation Release($p: String!) { releaseChange(pipelineName: $p) { id } }`;

const pipeline = (name: string) => ({
  name,
  executionMode: "SUPERSEDED",
  stages: [
    {
      name: "Source",
      actions: [
        {
          name: "Checkout",
          actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
          configuration: { Repository: "https://git.example/app.git", Branch: "main" },
          outputArtifacts: [{ name: "Src" }],
        },
      ],
    },
    {
      name: "Approve",
      actions: [
        {
          name: "Ok",
          actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
        },
      ],
    },
  ],
});

/** An OTLP/HTTP receiver that counts what it is sent (and answers at once). */
async function startReceiver() {
  let requests = 0;
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on("data", (chunk: Buffer) => (bytes += chunk.length));
    req.on("end", () => {
      requests += 1;
      res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts: () => ({ requests, bytes }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Releases per second on `server` over `seconds`, from `concurrency` clients. */
async function releases(
  clients: GraphQLHttpClient[],
  names: string[],
  seconds: number,
): Promise<{ perS: number; errors: number }> {
  const end = nowMs() + seconds * 1000;
  let done = 0;
  let errors = 0;
  await Promise.all(
    clients.map(async (client, c) => {
      for (let i = c; nowMs() < end; i += clients.length) {
        const response = await client.request(RELEASE, { p: names[i % names.length] });
        if (response.errors) errors += 1;
        else done += 1;
      }
    }),
  );
  return { perS: done / seconds, errors };
}

export async function runTracing(options: TracingOptions): Promise<BenchResult> {
  const receiver = await startReceiver();
  const off = await startChildServer();
  const on = await startChildServer({
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "1000" },
  });
  try {
    const names = Array.from({ length: options.pipelines }, (_, i) => `traced-${i}`);
    const clientsOf = new Map<ChildServer, GraphQLHttpClient[]>();
    for (const server of [off, on]) {
      const setup = new GraphQLHttpClient(server.url, server.token);
      for (const name of names) {
        const created = await setup.request(
          `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`,
          { input: pipeline(name) },
        );
        if (created.errors) throw new Error(`createPipeline: ${JSON.stringify(created.errors)}`);
      }
      clientsOf.set(
        server,
        Array.from({ length: options.concurrency }, () => new GraphQLHttpClient(server.url, server.token)),
      );
    }
    const rounds: Array<{ off: number; on: number; ratio: number }> = [];
    let errors = 0;
    for (let round = 0; round < options.rounds; round++) {
      // ABBA: the order alternates, so a drift of the machine weighs on both the same.
      const order = round % 2 === 0 ? [off, on] : [on, off];
      const measured = new Map<ChildServer, number>();
      for (const server of order) {
        await releases(clientsOf.get(server)!, names, options.warmupS);
        const result = await releases(clientsOf.get(server)!, names, options.windowS);
        errors += result.errors;
        measured.set(server, result.perS);
      }
      const r = { off: measured.get(off)!, on: measured.get(on)! };
      rounds.push({ ...r, ratio: r.on / r.off });
      log(`tracing: round ${round + 1}: off ${r.off.toFixed(1)}/s, on ${r.on.toFixed(1)}/s`);
    }
    const ratio = summarize(
      rounds.map((r) => r.ratio),
      3,
    ).p50;
    const offMedian = summarize(
      rounds.map((r) => r.off),
      1,
    ).p50;
    const onMedian = summarize(
      rounds.map((r) => r.on),
      1,
    ).p50;
    const sent = receiver.counts();
    return {
      name: "tracing",
      title: "Tracing: releaseChange throughput with OpenTelemetry spans exported, and without",
      date: new Date().toISOString(),
      machine: machineFacts(),
      parameters: { ...options, exporter: "OTLP/HTTP protobuf to a receiver in the bench process" },
      figures: [
        { label: "releaseChange/s, tracing off (SDK not loaded)", value: offMedian, unit: "releases/s" },
        { label: "releaseChange/s, tracing on (every span exported)", value: onMedian, unit: "releases/s" },
        {
          label: "throughput with tracing on ÷ off",
          value: ratio,
          unit: "×",
          goalMin: 0.97,
          note: `median of ${rounds.length} interleaved ${options.windowS} s windows`,
        },
      ],
      notes: [
        `${sent.requests} OTLP requests (${Math.round(sent.bytes / 1024)} KiB) reached the receiver; ${errors} releases answered an error.`,
        "Each release: a GraphQL span, an engine transaction span and an outbox publish span (always-on sampler).",
        `Load average at the end (1, 5, 15 min): ${os
          .loadavg()
          .map((x) => x.toFixed(1))
          .join(
            ", ",
          )} on ${os.cpus().length} cores; the rounds' ratios ranged from ${Math.min(...rounds.map((r) => r.ratio)).toFixed(2)} to ${Math.max(...rounds.map((r) => r.ratio)).toFixed(2)}.`,
      ],
      details: { rounds },
    };
  } finally {
    await Promise.allSettled([off.stop(), on.stop()]);
    await receiver.close();
  }
}
