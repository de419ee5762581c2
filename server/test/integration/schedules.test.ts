/**
 * Schedules: a pipeline's cron expressions start executions (trigger Schedule) at their times,
 * in their time zones, once per firing. The server's clock is moved by the test.
 */
import { CREATE, manualApproval, sourceThen } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, TestWorker } from "../support/worker";

let now = new Date("2026-01-05T01:58:00.000Z");
let t: TestServer;
let worker: TestWorker;
beforeAll(async () => {
  t = await startTestServer({ clock: () => now });
  worker = await TestWorker.start(t.natsPrefix, [GIT], () => ({ outcome: "Succeeded" }));
});
afterAll(async () => {
  await worker.stop();
  await t.stop();
});

/**
 * Resolves once the scheduler has run a whole round that began after this call (so it read the
 * clock as the test set it): the round in progress, if any, ends, then one more.
 */
async function schedulerRound(): Promise<void> {
  const from = t.server.scheduler.roundsDone;
  await eventually(async () => t.server.scheduler.roundsDone >= from + 2, 10_000, "a scheduler round");
}

async function triggers(name: string): Promise<string[]> {
  const { pipeline } = dataOf(
    await t.gql(
      `query ($n: String!) { pipeline(name: $n) { executions(first: 20) { nodes { trigger { triggerType triggerDetail } } } } }`,
      { n: name },
    ),
  );
  return pipeline.executions.nodes
    .map((e: any) => `${e.trigger.triggerType}: ${e.trigger.triggerDetail ?? ""}`)
    .reverse();
}

it("starts executions at the schedule's times in its time zone, once per firing", async () => {
  const input = sourceThen(
    "nightly",
    { name: "Gate", actions: [manualApproval()] },
    // 03:00 in Paris is 02:00 UTC in January.
    { extra: { schedules: [{ cron: "0 3 * * *", timezone: "Europe/Paris" }] } },
  );
  const created = dataOf(await t.gql(CREATE, { input }));
  expect(created.createPipeline).toBeTruthy();
  const { pipeline } = dataOf(await t.gql(`{ pipeline(name: "nightly") { schedules { cron timezone } } }`));
  expect(pipeline.schedules).toEqual([{ cron: "0 3 * * *", timezone: "Europe/Paris" }]);
  await eventually(
    async () => (await triggers("nightly")).length === 1,
    5000,
    "the CreatePipeline execution",
  );
  // The scheduler reads the schedule at 01:58 UTC; nothing is due yet.
  await schedulerRound();
  expect(await triggers("nightly")).toEqual(["CreatePipeline: user/admin"]);

  now = new Date("2026-01-05T02:00:20.000Z");
  await eventually(async () => (await triggers("nightly")).length === 2, 10_000, "the 02:00 UTC start");
  // A round at 02:30 starts nothing more: the 02:00 firing was once.
  now = new Date("2026-01-05T02:30:00.000Z");
  await schedulerRound();
  expect(await triggers("nightly")).toHaveLength(2);
  now = new Date("2026-01-06T02:00:05.000Z");
  await eventually(async () => (await triggers("nightly")).length === 3, 10_000, "the next day's start");
  expect(await triggers("nightly")).toEqual([
    "CreatePipeline: user/admin",
    "Schedule: 0 3 * * * (Europe/Paris), due 2026-01-05T02:00:00.000Z",
    "Schedule: 0 3 * * * (Europe/Paris), due 2026-01-06T02:00:00.000Z",
  ]);
});

it("refuses a bad cron expression and time zone at their paths", async () => {
  const response = await t.gql(CREATE, {
    input: sourceThen(
      "bad-schedule",
      { name: "Gate", actions: [manualApproval()] },
      { extra: { schedules: [{ cron: "every day", timezone: "Nowhere/Land" }] } },
    ),
  });
  expect(response.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(response.errors?.[0]?.extensions?.validationErrors.map((e: any) => e.path)).toEqual([
    "schedules[0].cron",
    "schedules[0].timezone",
  ]);
});
