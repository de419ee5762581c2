import { CREATE } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

/** The server's clock, moved by the test: durable timers fire when it passes them. */
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

let t: TestServer;
let worker: TestWorker;
beforeAll(async () => {
  t = await startTestServer({ clock });
  worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build"), SHELL("Deploy")], (job) => ({
    outcome: "Succeeded",
    outputVariables: (job.actionTypeId.category === "Source"
      ? { CommitId: job.jobId.slice(0, 8) }
      : {}) as Record<string, string>,
  }));
});
afterAll(async () => {
  await worker.stop();
  await t.stop();
});

const type = (category: string, provider: string) => ({ category, owner: "Sluice", provider, version: "1" });
const pipeline = (name: string, approvalTimeout: number | null) => ({
  name,
  stages: [
    {
      name: "Source",
      actions: [
        {
          name: "Checkout",
          actionTypeId: type("Source", "Git"),
          configuration: { Repository: "https://git.example/app.git", Branch: "main" },
          outputArtifacts: [{ name: "Src" }],
          namespace: "Src_Vars",
        },
      ],
    },
    {
      name: "Approve",
      actions: [
        { name: "Gate", actionTypeId: type("Approval", "Manual"), timeoutInMinutes: approvalTimeout },
      ],
    },
    {
      name: "Deploy",
      actions: [
        {
          name: "Push",
          actionTypeId: type("Deploy", "Shell"),
          configuration: { Commands: "./deploy #{Src_Vars.CommitId}" },
          inputArtifacts: [{ name: "Src" }],
        },
      ],
    },
  ],
});

const EXECUTION = `query ($id: ID!) { pipelineExecution(id: $id) { id status trigger { triggerType }
  stages { name status actions { id name status summary approvalPending resolvedConfiguration inputArtifacts { name objectKey } } } } }`;
const execution = async (id: string) => dataOf(await t.gql(EXECUTION, { id })).pipelineExecution;
const firstExecution = async (name: string) =>
  eventually(async () => {
    const data = dataOf(
      await t.gql(`query ($n: String!) { pipeline(name: $n) { executions(first: 5) { nodes { id } } } }`, {
        n: name,
      }),
    );
    return data.pipeline.executions.nodes.at(-1)?.id as string | undefined;
  });

it("fails a manual approval when its timeout passes (durable timer)", async () => {
  dataOf(await t.gql(CREATE, { input: pipeline("timed", 5) }));
  const id = await firstExecution("timed");
  await eventually(async () => (await execution(id)).stages[1].actions[0].approvalPending || undefined);
  offsetMs += 4 * 60_000;
  // Two rounds of the timer loop: one began after the clock moved, and the timer was not due yet.
  const from = t.server.timers.roundsDone;
  await eventually(async () => t.server.timers.roundsDone >= from + 2 || undefined);
  expect((await execution(id)).stages[1].actions[0].approvalPending).toBe(true);
  offsetMs += 2 * 60_000;
  const failed = await eventually(async () => {
    const e = await execution(id);
    return e.status === "Failed" ? e : undefined;
  });
  expect(failed.stages[1].actions[0]).toMatchObject({ status: "Failed", approvalPending: false });
  expect(failed.stages[1].actions[0].summary).toMatch(/timed out after 5 minutes/i);
});

it("rolls a stage back to the artifacts and variables of an earlier execution that succeeded there", async () => {
  dataOf(await t.gql(CREATE, { input: pipeline("rolling", null) }));
  const approveAll = async (id: string) => {
    const pending = await eventually(
      async () =>
        (await execution(id)).stages[1].actions[0].approvalPending &&
        (await execution(id)).stages[1].actions[0].id,
    );
    dataOf(
      await t.gql(
        `mutation ($id: ID!) { putApprovalResult(actionExecutionId: $id, approved: true) { status } }`,
        { id: pending },
      ),
    );
    return eventually(async () => {
      const e = await execution(id);
      return e.status === "Succeeded" ? e : undefined;
    });
  };
  const good = await approveAll(await firstExecution("rolling"));
  const second = dataOf(await t.gql(`mutation { releaseChange(pipelineName: "rolling") { id } }`))
    .releaseChange.id;
  const newer = await approveAll(second);
  expect(newer.stages[2].actions[0].resolvedConfiguration.Commands).not.toBe(
    good.stages[2].actions[0].resolvedConfiguration.Commands,
  );

  const rollback = dataOf(
    await t.gql(
      `mutation ($id: ID!) { rollbackStage(pipelineName: "rolling", stageName: "Deploy", targetExecutionId: $id) { id trigger { triggerType } } }`,
      { id: good.id },
    ),
  ).rollbackStage;
  expect(rollback.trigger.triggerType).toBe("ManualRollback");
  const rolled = await eventually(async () => {
    const e = await execution(rollback.id);
    return e.status === "Succeeded" ? e : undefined;
  });
  expect(rolled.stages.map((s: { status: string | null }) => s.status)).toEqual([null, null, "Succeeded"]);
  expect(rolled.stages[2].actions[0].resolvedConfiguration).toEqual(
    good.stages[2].actions[0].resolvedConfiguration,
  );
  expect(rolled.stages[2].actions[0].inputArtifacts).toEqual(good.stages[2].actions[0].inputArtifacts);

  const refused = await t.gql(
    `mutation ($id: ID!) { rollbackStage(pipelineName: "rolling", stageName: "Deploy", targetExecutionId: $id) { id } }`,
    {
      id: "00000000-0000-4000-8000-000000000000",
    },
  );
  expect(refused.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
});
