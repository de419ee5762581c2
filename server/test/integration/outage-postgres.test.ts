/**
 * PostgreSQL away while 20 executions run on two agent processes: the server cannot write
 * heartbeats or apply results, and must not hold that against the agents. Results wait in NATS
 * and are applied in order when the database is back, heartbeats count from when NATS stored
 * them, and no lease fires before the backlog is applied (docs/failure-model.md). The outage is
 * the test's own PostgreSQL stopped (`pg_ctl stop -m fast`: every session cut) and started again
 * on the same port and data directory, as a restart or a failover would be.
 */
import {
  commandsSeen,
  finishedCleanly,
  startExecutions,
  startWorld,
  stopWorld,
  EXECUTIONS,
  type OutageWorld,
} from "../support/outage";
import { PrivatePostgres } from "../support/private-postgres";
import { startPrivateNats, type PrivateNats } from "../support/private-nats";

jest.setTimeout(150_000);

let nats: PrivateNats | undefined;
let pg: PrivatePostgres | undefined;
let world: OutageWorld | undefined;

afterEach(async () => {
  await stopWorld(world);
  await nats?.stop();
  await pg?.destroy();
  world = nats = pg = undefined;
});

async function scenario(tag: string, downMs: number) {
  nats = await startPrivateNats();
  pg = await PrivatePostgres.create();
  // A lease of 15 s, half the default: the 30 s outage lasts twice as long as it.
  world = await startWorld({ databaseUrl: pg.url, natsUrl: nats.url, env: { SLUICE_LEASE_SECONDS: "15" } });
  const names = await startExecutions(world, tag);
  // Deploys are running: they finish, with their builds' results, while the database is away.
  await commandsSeen(world, tag, "deploy start", EXECUTIONS / 2);
  await pg.stop("fast");
  // The outage itself is what is tested: it lasts downMs, whatever happens meanwhile.
  await new Promise((resolve) => setTimeout(resolve, downMs));
  await pg.start();
  return finishedCleanly(world, names, 90_000, Date.now());
}

it("PostgreSQL away for 5 s: every execution succeeds, each action ran once, no log line lost", async () => {
  expect(await scenario("pg5", 5_000)).toEqual([]);
});

it("PostgreSQL away for 30 s (twice the lease): no completed action is marked lost or run again", async () => {
  expect(await scenario("pg30", 30_000)).toEqual([]);
});
