/**
 * A NATS node lost (docs/failure-model.md): a 3-node nats-server cluster of the test's own, every
 * stream, consumer and the artifacts bucket with three replicas (SLUICE_NATS_REPLICAS=3: those an
 * earlier start made with one are brought to three), two server copies and two real agents that
 * know all three nodes. The node that leads the jobs stream is killed (SIGKILL) while 20 executions run; every execution finishes, each action with
 * one attempt whose command ran once, and no log line is lost. Then the same with the node back:
 * it is started again, rejoins, and the leader of the jobs stream is killed again during 20 more
 * executions and started again while they run.
 */
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import crypto from "node:crypto";
import { jobConsumerConfig, natsNames } from "@sluice/protocol";
import { ensureJetStream } from "../../src/messaging/jetstream-setup";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { startNatsCluster, type NatsCluster } from "../support/nats-cluster";
import {
  commandsSeen,
  finishedCleanly,
  startExecutions,
  startWorld,
  stopWorld,
  EXECUTIONS,
  type OutageWorld,
} from "../support/outage";
import { eventually } from "../support/wait";

// Each round's wait (ROUND_MS) ends with what is stuck before the test's own timeout would.
jest.setTimeout(360_000);
const ROUND_MS = 120_000;

let cluster: NatsCluster | undefined;
let db: TestDatabase | undefined;
let world: OutageWorld | undefined;
let nc: NatsConnection | undefined;
const SHELL = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" } as const;
const t0 = Date.now();
/** When each step was reached: printed with OUTAGE_TIMINGS set, and with a failure's diagnosis. */
const steps: string[] = [];
const step = (what: string) => {
  steps.push(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  if (process.env.OUTAGE_TIMINGS) console.log(steps.at(-1));
};

afterAll(async () => {
  await nc?.close().catch(() => undefined);
  await stopWorld(world);
  await cluster?.stop();
  await db?.drop();
});

/**
 * `check`, and when it fails, what the jobs stream and its consumers held then (in the error): an
 * execution that never ends is a job no agent took, or one taken and lost.
 */
async function withJobsState<T>(jsm: JetStreamManager, stream: string, check: Promise<T>): Promise<T> {
  try {
    return await check;
  } catch (error) {
    const lines: string[] = [];
    try {
      const info = await jsm.streams.info(stream);
      lines.push(`${stream}: ${JSON.stringify(info.state)} leader ${info.cluster?.leader}`);
      for await (const c of jsm.consumers.list(stream))
        lines.push(
          `${c.name}: pending ${c.num_pending}, ack pending ${c.num_ack_pending}, waiting ${c.num_waiting}, ` +
            `redelivered ${c.num_redelivered}, delivered ${c.delivered.stream_seq}, ack floor ` +
            `${c.ack_floor.stream_seq}, leader ${c.cluster?.leader}`,
        );
    } catch (inner) {
      lines.push(`(the jobs stream's state could not be read: ${(inner as Error).message})`);
    }
    throw new Error(`${(error as Error).message}\n${lines.join("\n")}\nsteps:\n${steps.join("\n")}`, {
      cause: error,
    });
  }
}

/** The node that leads `stream` now, other than `not` (asked again until one is elected). */
async function leaderOf(jsm: JetStreamManager, stream: string, not?: string): Promise<string> {
  return eventually(
    async () => {
      const leader = (await jsm.streams.info(stream)).cluster?.leader;
      return leader !== undefined && leader !== not && leader;
    },
    60_000,
    `a leader of ${stream}`,
  );
}

it("a 3-node NATS cluster with R3 loses the node that leads the jobs stream: nothing lost, nothing run twice", async () => {
  cluster = await startNatsCluster(3);
  db = await createTestDatabase();
  nc = await connect({ servers: cluster.url.split(","), name: "sluice-test-observer" });
  const jsm = await jetstreamManager(nc);
  // The installation ran with one replica before: its streams, the engine's consumer, a job
  // consumer of a pool no agent of this test serves, and the bucket are R1.
  const natsPrefix = `test_${crypto.randomBytes(4).toString("hex")}`;
  const names = natsNames(natsPrefix);
  await ensureJetStream(nc, natsPrefix, { replicas: 1 });
  const otherPool = jobConsumerConfig(natsPrefix, "elsewhere", SHELL, { replicas: 1 });
  await jsm.consumers.add(names.streams.jobs, otherPool as never);
  expect((await jsm.streams.info(names.streams.jobs)).config.num_replicas).toBe(1);
  expect((await jsm.consumers.info(names.streams.jobs, otherPool.durable_name)).config.num_replicas).toBe(1);

  world = await startWorld({
    databaseUrl: db.url,
    natsUrl: cluster.url,
    natsPrefix,
    servers: 2,
    env: { SLUICE_NATS_REPLICAS: "3" },
  });

  // Now every stream, consumer and the bucket has three replicas.
  for (const stream of [...Object.values(names.streams), `OBJ_${names.artifactsBucket}`]) {
    const info = await jsm.streams.info(stream);
    expect({ stream, replicas: info.config.num_replicas }).toEqual({ stream, replicas: 3 });
  }
  const consumers = [];
  for await (const consumer of jsm.consumers.list(names.streams.jobs)) consumers.push(consumer);
  consumers.push(await jsm.consumers.info(names.streams.results, names.consumers.engine));
  // The engine's, the other pool's and the agents' (Shell, Git, ...).
  expect(consumers.map((c) => c.name)).toContain(otherPool.durable_name);
  expect(consumers.length).toBeGreaterThanOrEqual(4);
  for (const consumer of consumers)
    expect({ consumer: consumer.name, replicas: consumer.config.num_replicas }).toEqual({
      consumer: consumer.name,
      replicas: 3,
    });

  // 1. The jobs stream's leader is killed while half the builds have started.
  step("world started");
  const first = await startExecutions(world, "lost");
  await commandsSeen(world, "lost", "build start", EXECUTIONS / 2);
  const victim = cluster.node(await leaderOf(jsm, names.streams.jobs));
  step(`killing ${victim.name}, the jobs stream's leader`);
  await victim.kill9();
  await leaderOf(jsm, names.streams.jobs, victim.name);
  step("the jobs stream has a new leader");
  expect(await withJobsState(jsm, names.streams.jobs, finishedCleanly(world, first, ROUND_MS))).toEqual([]);
  step("every execution of the first round checked");

  // 2. The node is back and has caught up; the jobs stream's leader is killed again mid-run and
  // started again while the executions go on.
  await victim.start();
  step(`${victim.name} started again`);
  await eventually(
    async () => {
      const info = await jsm.streams.info(names.streams.jobs);
      const peers = [
        info.cluster?.leader,
        ...(info.cluster?.replicas ?? []).filter((r) => r.current).map((r) => r.name),
      ];
      return peers.includes(victim.name) && peers.filter(Boolean).length === 3;
    },
    60_000,
    `${victim.name} to catch up with the jobs stream`,
  );
  step(`${victim.name} caught up`);
  const second = await startExecutions(world, "back");
  await commandsSeen(world, "back", "build start", EXECUTIONS / 2);
  const again = cluster.node(await leaderOf(jsm, names.streams.jobs));
  step(`killing ${again.name}, the jobs stream's leader`);
  await again.kill9();
  await leaderOf(jsm, names.streams.jobs, again.name);
  await again.start();
  step(`${again.name} started again`);
  expect(await withJobsState(jsm, names.streams.jobs, finishedCleanly(world, second, ROUND_MS))).toEqual([]);
  step("every execution of the second round checked");
  // Both server copies and both agents lived through it.
  expect(world.servers.map((s) => s.running())).toEqual([true, true]);
  expect(world.agents.map((a) => a.running())).toEqual([true, true]);
});
