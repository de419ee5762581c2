import os from "node:os";
import { log } from "./env";
import { GraphQLHttpClient } from "./gql";
import type { ChildServer } from "./server";
import { nowMs, summarize } from "./stats";

/**
 * What a server feature costs in throughput: two server processes, one with the feature off and
 * one with it on, each taking `releaseChange` mutations from `concurrency` clients in turn, in
 * interleaved windows (ABBA, so that a drift of the machine's load weighs on both the same), over
 * `pipelines` SUPERSEDED pipelines of their own (Source → Manual approval; no agent runs the jobs:
 * each release is a GraphQL operation, an engine transaction and the outbox publish of its first
 * job). The tracing and metrics scenarios use it.
 */
export interface CompareOptions {
  rounds: number;
  warmupS: number;
  windowS: number;
  concurrency: number;
  pipelines: number;
}

export interface Comparison {
  rounds: Array<{ off: number; on: number; ratio: number }>;
  /** Medians of the rounds: releases per second off and on, and the ratio on ÷ off. */
  off: number;
  on: number;
  ratio: number;
  errors: number;
  /** Load average at the end and the range of the rounds' ratios, for the notes. */
  loadNote: string;
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

/** Releases per second on a server over `seconds`, from its clients. */
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

/**
 * Runs the rounds. `whileDriven(server)` is called before each server's warm-up and window; what
 * it returns is called after them (the metrics scenario scrapes the "on" server only while it is
 * driven, as Prometheus would scrape it all the time).
 */
export async function compareReleases(
  scenario: string,
  servers: { off: ChildServer; on: ChildServer },
  options: CompareOptions,
  whileDriven: (server: ChildServer) => () => Promise<void> = () => async () => undefined,
): Promise<Comparison> {
  const { off, on } = servers;
  const names = Array.from({ length: options.pipelines }, (_, i) => `${scenario}-${i}`);
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
  const rounds: Comparison["rounds"] = [];
  let errors = 0;
  for (let round = 0; round < options.rounds; round++) {
    const order = round % 2 === 0 ? [off, on] : [on, off];
    const measured = new Map<ChildServer, number>();
    for (const server of order) {
      const done = whileDriven(server);
      try {
        await releases(clientsOf.get(server)!, names, options.warmupS);
        const result = await releases(clientsOf.get(server)!, names, options.windowS);
        errors += result.errors;
        measured.set(server, result.perS);
      } finally {
        await done();
      }
    }
    const r = { off: measured.get(off)!, on: measured.get(on)! };
    rounds.push({ ...r, ratio: r.on / r.off });
    log(`${scenario}: round ${round + 1}: off ${r.off.toFixed(1)}/s, on ${r.on.toFixed(1)}/s`);
  }
  const median = (values: number[], digits: number) => summarize(values, digits).p50;
  const ratios = rounds.map((r) => r.ratio);
  return {
    rounds,
    off: median(
      rounds.map((r) => r.off),
      1,
    ),
    on: median(
      rounds.map((r) => r.on),
      1,
    ),
    ratio: median(ratios, 3),
    errors,
    loadNote: `Load average at the end (1, 5, 15 min): ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(
        ", ",
      )} on ${os.cpus().length} cores; the rounds' ratios ranged from ${Math.min(...ratios).toFixed(2)} to ${Math.max(...ratios).toFixed(2)}.`,
  };
}
