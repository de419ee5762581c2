/**
 * Secret configuration values (the Webhook type's Secret, a custom type's secret properties) are
 * never shown by the API — documents, stages, versions and resolved configurations show "****" —
 * and a document posted back with the masks keeps them. Jobs carry them encrypted (the agent asks
 * for them sealed: secrets-e2e.test.ts).
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { JobMessage } from "@sluice/protocol";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { DOCUMENT, checkout } from "../support/documents";
import { writeLogChunk } from "../support/logs";
import { connectNats } from "../support/nats";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { GIT, TestWorker } from "../support/worker";

const WEBHOOK = { category: "Invoke", owner: "Sluice", provider: "Webhook", version: "1" } as const;
const VAULT = { category: "Deploy", owner: "Custom", provider: "Vault", version: "1" } as const;
const HOOK_SECRET = "hook-s3cret-value";
const VAULT_TOKEN = "vault-t0ken-value";

let t: TestServer;
let worker: TestWorker;
let nc: NatsConnection;
beforeAll(async () => {
  t = await startTestServer();
  nc = await connectNats();
  worker = await TestWorker.start(t.natsPrefix, [GIT, WEBHOOK, VAULT], () => ({ outcome: "Succeeded" }));
  dataOf(
    await t.gql(
      `mutation ($input: CustomActionTypeInput!) { createCustomActionType(input: $input) { id { provider } } }`,
      {
        input: {
          category: "Deploy",
          provider: "Vault",
          version: "1",
          configurationProperties: [
            { name: "Token", required: true, secret: true },
            { name: "Path", required: true },
          ],
          inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
          outputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
        },
      },
    ),
  );
});
afterAll(async () => {
  await worker.stop();
  await nc.close();
  await t.stop();
});

const document = (name: string, path = "kv/app") => ({
  name,
  stages: [
    { name: "Source", actions: [checkout()] },
    {
      name: "Release",
      actions: [
        {
          name: "Notify",
          actionTypeId: WEBHOOK,
          configuration: { Url: "https://hooks.example/release", Secret: HOOK_SECRET },
        },
        { name: "Vault", actionTypeId: VAULT, configuration: { Token: VAULT_TOKEN, Path: path } },
      ],
    },
  ],
});

const jobsOf = (executionId: string) => (jobs: JobMessage[]) =>
  jobs.filter((job) => job.executionId === executionId && job.stageName === "Release");

async function latestExecution(name: string): Promise<{ id: string; status: string }> {
  const data = dataOf(
    await t.gql(
      `query ($name: String!) { pipeline(name: $name) { executions(first: 1) { nodes { id status } } } }`,
      {
        name,
      },
    ),
  );
  return data.pipeline.executions.nodes[0];
}

async function releasedJobs(name: string): Promise<{ executionId: string; jobs: JobMessage[] }> {
  const { id } = await latestExecution(name);
  await worker.waitFor((jobs) => jobsOf(id)(jobs).length === 2);
  return { executionId: id, jobs: jobsOf(id)(worker.jobs) };
}

const configurationOf = (jobs: JobMessage[], action: string) =>
  jobs.find((j) => j.actionName === action)!.configuration;

const ENCRYPTED = expect.stringMatching(/^sluice:enc:v1:[0-9a-f-]{36}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);

it("masks secrets wherever the API shows a configuration, while jobs carry them encrypted", async () => {
  dataOf(
    await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
      input: document("secretive"),
    }),
  );
  const first = await releasedJobs("secretive");
  expect(configurationOf(first.jobs, "Notify")).toEqual({
    Url: "https://hooks.example/release",
    Secret: ENCRYPTED,
  });
  expect(configurationOf(first.jobs, "Vault")).toEqual({ Token: ENCRYPTED, Path: "kv/app" });
  expect(JSON.stringify(first.jobs)).not.toContain(HOOK_SECRET);
  expect(JSON.stringify(first.jobs)).not.toContain(VAULT_TOKEN);

  const shown = [
    await t.gql(DOCUMENT, { name: "secretive" }),
    await t.gql(DOCUMENT, { name: "secretive", format: "AWS" }),
    await t.gql(
      `{ pipeline(name: "secretive") { stages { actions { name configuration } } versions { nodes { document } } } }`,
    ),
    await t.gql(`{ pipelines { nodes { stages { actions { configuration } } } } }`),
    await t.gql(
      `query ($id: ID!) { pipelineExecution(id: $id) { stages { actions { name resolvedConfiguration attempts { resolvedConfiguration } } } } }`,
      { id: first.executionId },
    ),
  ];
  for (const response of shown) {
    const text = JSON.stringify(dataOf(response));
    expect(text).not.toContain(HOOK_SECRET);
    expect(text).not.toContain(VAULT_TOKEN);
    expect(text).toContain('"****"');
  }
  const stages = dataOf(shown[2]!).pipeline.stages;
  expect(stages[1].actions).toEqual([
    { name: "Notify", configuration: { Url: "https://hooks.example/release", Secret: "****" } },
    { name: "Vault", configuration: { Token: "****", Path: "kv/app" } },
  ]);
  const release = dataOf(shown[4]!).pipelineExecution.stages[1].actions;
  expect(release.map((a: { resolvedConfiguration: unknown }) => a.resolvedConfiguration)).toEqual([
    { Url: "https://hooks.example/release", Secret: "****" },
    { Token: "****", Path: "kv/app" },
  ]);
});

it("keeps the stored secrets when the masked document is posted back, and refuses masks with nothing behind them", async () => {
  const masked = dataOf(await t.gql(DOCUMENT, { name: "secretive" })).pipeline.document;
  const first = (await releasedJobs("secretive")).jobs;
  const vault = masked.stages[1].actions.find((a: { name: string }) => a.name === "Vault");
  vault.configuration.Path = "kv/app2";
  const updated = dataOf(
    await t.gql(
      `mutation ($input: PipelineInput!) { updatePipeline(input: $input, expectedVersion: 1) { version } }`,
      { input: masked },
    ),
  );
  expect(updated.updatePipeline.version).toBe(2);
  dataOf(await t.gql(`mutation { releaseChange(pipelineName: "secretive") { id } }`));
  const second = await releasedJobs("secretive");
  // The same envelopes: the values were kept, not encrypted again.
  expect(configurationOf(second.jobs, "Notify").Secret).toBe(configurationOf(first, "Notify").Secret);
  expect(configurationOf(second.jobs, "Vault")).toEqual({
    Token: configurationOf(first, "Vault").Token,
    Path: "kv/app2",
  });

  // A copy under another name has no stored secrets: each mask is reported at its field.
  const copy = { ...masked, name: "secretive-copy" };
  const refused = await t.gql(
    `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`,
    {
      input: copy,
    },
  );
  expect(refused.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(
    (refused.errors?.[0]?.extensions?.validationErrors as Array<{ path: string }>).map((e) => e.path),
  ).toEqual(["stages[1].actions[0].configuration.Secret", "stages[1].actions[1].configuration.Token"]);
  expect(dataOf(await t.gql(`{ pipeline(name: "secretive-copy") { name } }`)).pipeline).toBeNull();

  // A renamed action is a new one: its mask has nothing behind it either.
  const renamed = structuredClone(masked);
  renamed.stages[1].actions[0].name = "Announce";
  const refusedRename = await t.gql(
    `mutation ($input: PipelineInput!) { updatePipeline(input: $input, expectedVersion: 2) { version } }`,
    { input: renamed },
  );
  expect(
    (refusedRename.errors?.[0]?.extensions?.validationErrors as Array<{ path: string }>).map((e) => e.path),
  ).toEqual(["stages[1].actions[0].configuration.Secret"]);
});

it("masks secret values in the logs it serves, paged and followed", async () => {
  dataOf(await t.gql(`mutation { releaseChange(pipelineName: "secretive") { id } }`));
  const { jobs } = await releasedJobs("secretive");
  const vault = jobs.find((j) => j.actionName === "Vault")!;
  await writeLogChunk(nc, t.natsPrefix, vault, 1, "stdout", `login with ${VAULT_TOKEN}\nplain line\n`);
  await writeLogChunk(nc, t.natsPrefix, vault, 2, "stderr", `+ curl -H "X-Vault-Token: ${VAULT_TOKEN}"\n`);
  const page = dataOf(
    await t.gql(`query ($id: ID!) { actionLog(actionExecutionId: $id) { nodes { text } } }`, {
      id: vault.jobId,
    }),
  );
  expect(page.actionLog.nodes.map((n: { text: string }) => n.text)).toEqual([
    "login with ****",
    "plain line",
    '+ curl -H "X-Vault-Token: ****"',
  ]);

  const client = createClient({
    url: t.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
    retryAttempts: 0,
  });
  try {
    const followed: string[] = [];
    client.subscribe<{ actionLog: { text: string } }>(
      {
        query: `subscription ($id: ID!) { actionLog(actionExecutionId: $id) { text } }`,
        variables: { id: vault.jobId },
      },
      { next: (v) => void followed.push(v.data!.actionLog.text), error: () => {}, complete: () => {} },
    );
    await writeLogChunk(nc, t.natsPrefix, vault, 3, "stdout", `again ${VAULT_TOKEN} and ${VAULT_TOKEN}\n`);
    const deadline = Date.now() + 5000;
    while (followed.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(followed).toEqual([
      "login with ****",
      "plain line",
      '+ curl -H "X-Vault-Token: ****"',
      "again **** and ****",
    ]);
  } finally {
    await client.dispose();
  }
});

it("never quotes a secret value in a validation error, nor in the audit log's error column", async () => {
  const PORT_SECRET = "port-s3cret-text";
  dataOf(
    await t.gql(
      `mutation ($input: CustomActionTypeInput!) { createCustomActionType(input: $input) { id { provider } } }`,
      {
        input: {
          category: "Deploy",
          provider: "Dial",
          version: "1",
          configurationProperties: [{ name: "Port", required: true, secret: true, type: "Number" }],
          inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
          outputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
        },
      },
    ),
  );
  const dial = { category: "Deploy", owner: "Custom", provider: "Dial", version: "1" };
  const response = await t.gql(
    `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`,
    {
      input: {
        name: "dialled",
        stages: [
          { name: "Source", actions: [checkout()] },
          {
            name: "Release",
            actions: [{ name: "Dial", actionTypeId: dial, configuration: { Port: PORT_SECRET } }],
          },
        ],
      },
    },
  );
  expect(response.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(JSON.stringify(response.errors)).toContain("stages[1].actions[0].configuration.Port");
  expect(JSON.stringify(response)).not.toContain(PORT_SECRET);
  const audit = dataOf(
    await t.gql(`{ auditEvents(first: 5, operation: "createPipeline") { nodes { outcome error } } }`),
  ).auditEvents.nodes;
  expect(audit[0].outcome).toBe("BAD_USER_INPUT");
  expect(audit[0].error).toMatch(/Port/);
  expect(JSON.stringify(audit)).not.toContain(PORT_SECRET);
});
