import { Client } from "pg";
import { log, machineFacts } from "./env";
import { GraphQLHttpClient } from "./gql";
import { STATE_QUERY, templateResponder } from "./queries";
import type { BenchResult } from "./results";
import { copyTemplate, runTemplate } from "./seed";
import { cpuMs, memoryOf, mib, startChildServer, type ChildServer } from "./server";
import { sleep } from "./stats";

export interface MemoryOptions {
  pipelines: number;
  executionsPerPipeline: number;
}

const HISTORY_QUERY = `query ($name: String!) { pipeline(name: $name) { executions(first: 10) {
  nodes { id status startTime stages { name status } } } } }`;

/** Waits until the server uses under 1 % of a core over 2 s (at most `timeoutMs`); the CPU last seen. */
async function settled(server: ChildServer, timeoutMs = 60_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const before = cpuMs(server.pid);
    await sleep(2000);
    const used = (cpuMs(server.pid) - before) / 2000;
    if (used < 0.01 || Date.now() > end) return used;
  }
}

/**
 * Scenario: the server's memory at rest, in its own process on PostgreSQL, with `pipelines`
 * pipelines of `executionsPerPipeline` executions each (the 4-stage template of the queries
 * scenario, copied). Measured after start (empty database), then after every pipeline's state
 * and its last ten executions were read once through GraphQL (what the dashboard's pages and a
 * script's polls ask for), once the server is idle again: RSS and JS heap after a full garbage
 * collection, through the server's inspector.
 */
export async function runMemory(options: MemoryOptions): Promise<BenchResult> {
  const server = await startChildServer({ inspect: true });
  const gql = new GraphQLHttpClient(server.url, server.token);
  try {
    await settled(server);
    const empty = await memoryOf(server);
    log(`memory: after start ${mib(empty.rss)} MiB RSS, ${mib(empty.heap)} MiB heap`);
    const responder = await templateResponder(server.natsPrefix);
    await runTemplate(gql, "tmpl4", 4);
    await responder.stop();
    const seeded = await copyTemplate(
      server.database.url,
      "tmpl4",
      options.pipelines,
      options.executionsPerPipeline,
    );
    log(`memory: seeded ${JSON.stringify(seeded)}`);
    const db = new Client({ connectionString: server.database.url });
    await db.connect();
    const names = (await db.query<{ name: string }>(`SELECT name FROM pipelines ORDER BY name`)).rows.map(
      (r) => r.name,
    );
    await db.end();
    const started = Date.now();
    for (const name of names) {
      await gql.data(STATE_QUERY, { name });
      await gql.data(HISTORY_QUERY, { name });
    }
    const readS = (Date.now() - started) / 1000;
    const idleCpu = await settled(server);
    const used = await memoryOf(server);
    log(
      `memory: after reading ${names.length} pipelines ${mib(used.rss)} MiB RSS, ${mib(used.heap)} MiB heap`,
    );
    return {
      name: "memory",
      title: `Server memory at rest: ${seeded.pipelines.toLocaleString("en-US")} pipelines, ${seeded.executions.toLocaleString("en-US")} executions, on PostgreSQL`,
      date: new Date().toISOString(),
      machine: machineFacts(),
      parameters: {
        ...options,
        server: "its own process (the built server), PostgreSQL, local NATS, metrics on, LOG_LEVEL=info",
        reads: "each pipeline's state and its last 10 executions once, one after the other",
      },
      figures: [
        { label: "RSS after start, empty database (after a full GC)", value: mib(empty.rss), unit: "MiB" },
        { label: "of which JavaScript heap", value: mib(empty.heap), unit: "MiB" },
        {
          label: `RSS at rest after every pipeline was read (after a full GC)`,
          value: mib(used.rss),
          unit: "MiB",
          goalMax: 250,
        },
        { label: "of which JavaScript heap", value: mib(used.heap), unit: "MiB" },
      ],
      notes: [
        `Reading the ${names.length} pipelines' states and histories took ${readS.toFixed(1)} s; the server then used ${(idleCpu * 100).toFixed(1)} % of a core (measured over 2 s) when the figure was taken.`,
        "The server keeps up to 2,000 pipelines' runtimes and their pinned documents in memory (engine/runtimes.ts), so every pipeline read is held here: the figure is the most the caches hold at this scale.",
      ],
      details: { empty, used, seeded, idleCpu },
    };
  } finally {
    await server.stop();
  }
}
