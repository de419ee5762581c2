import http from "node:http";
import type { AddressInfo } from "node:net";
import { machineFacts } from "./env";
import { compareReleases, type CompareOptions } from "./release-compare";
import type { BenchResult } from "./results";
import { startChildServer } from "./server";

/**
 * What tracing costs the server: two server processes, one exporting OpenTelemetry spans over
 * OTLP/HTTP (protobuf, the default) to a receiver in the bench process, one without an endpoint
 * (the SDK not loaded), compared by `compareReleases` (release-compare.ts): every release is a
 * GraphQL operation, an engine transaction and an outbox publish of its first job, three spans.
 * The figure is the median of the rounds' ratios, on ÷ off.
 */
export type TracingOptions = CompareOptions;

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

export async function runTracing(options: TracingOptions): Promise<BenchResult> {
  const receiver = await startReceiver();
  const off = await startChildServer();
  const on = await startChildServer({
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "1000" },
  });
  try {
    const result = await compareReleases("traced", { off, on }, options);
    const sent = receiver.counts();
    return {
      name: "tracing",
      title: "Tracing: releaseChange throughput with OpenTelemetry spans exported, and without",
      date: new Date().toISOString(),
      machine: machineFacts(),
      parameters: { ...options, exporter: "OTLP/HTTP protobuf to a receiver in the bench process" },
      figures: [
        { label: "releaseChange/s, tracing off (SDK not loaded)", value: result.off, unit: "releases/s" },
        { label: "releaseChange/s, tracing on (every span exported)", value: result.on, unit: "releases/s" },
        {
          label: "throughput with tracing on ÷ off",
          value: result.ratio,
          unit: "×",
          goalMin: 0.97,
          note: `median of ${result.rounds.length} interleaved ${options.windowS} s windows`,
        },
      ],
      notes: [
        `${sent.requests} OTLP requests (${Math.round(sent.bytes / 1024)} KiB) reached the receiver; ${result.errors} releases answered an error.`,
        "Each release: a GraphQL span, an engine transaction span and an outbox publish span (always-on sampler).",
        result.loadNote,
      ],
      details: { rounds: result.rounds },
    };
  } finally {
    await Promise.allSettled([off.stop(), on.stop()]);
    await receiver.close();
  }
}
