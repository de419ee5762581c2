/**
 * NATS away while 20 executions run on two agent processes: a delay, never a failure, as long as
 * it is shorter than a job's lease minus one heartbeat interval (docs/failure-model.md). The
 * outage is the test's own nats-server killed (SIGKILL: a crash, not a goodbye) and started again
 * after the outage on the same port and store, as a restart or a crash would be; uploads,
 * heartbeats, log chunks and completes caught in it are retried by the agents.
 */
import { createTestDatabase, type TestDatabase } from "../support/database";
import {
  commandsSeen,
  finishedCleanly,
  startExecutions,
  startWorld,
  stopWorld,
  EXECUTIONS,
  type OutageWorld,
} from "../support/outage";
import { startPrivateNats, type PrivateNats } from "../support/private-nats";

jest.setTimeout(150_000);

let nats: PrivateNats | undefined;
let db: TestDatabase | undefined;
let world: OutageWorld | undefined;

afterEach(async () => {
  await stopWorld(world);
  await nats?.stop();
  await db?.drop();
  world = nats = db = undefined;
});

async function scenario(tag: string, downMs: number, env: Record<string, string> = {}) {
  nats = await startPrivateNats();
  db = await createTestDatabase();
  world = await startWorld({ databaseUrl: db.url, natsUrl: nats.url, env });
  const names = await startExecutions(world, tag);
  // Half the builds have started: the others are queued, running or uploading their artifact.
  await commandsSeen(world, tag, "build start", EXECUTIONS / 2);
  await nats.restart(downMs);
  return finishedCleanly(world, names, 90_000, Date.now());
}

it("NATS away for 5 s (a short lease, 15 s): every execution succeeds, each action ran once, no log line lost", async () => {
  expect(await scenario("nats5", 5_000, { SLUICE_LEASE_SECONDS: "15" })).toEqual([]);
});

it("NATS away for 20 s (the default lease, 30 s): every execution succeeds, each action ran once, no log line lost", async () => {
  expect(await scenario("nats20", 20_000)).toEqual([]);
});
