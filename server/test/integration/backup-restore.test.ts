/**
 * Backup and restore of definitions (docs/backup.md): `sluice admin export` from one installation
 * (its own database and NATS prefix), `sluice admin import` into a fresh one, and the two compared;
 * the restored installation runs a pipeline. A newer format, a bad archive or a clash is refused
 * with a clear error and changes nothing; every call is in the audit log, without secrets.
 */
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { simplePipeline } from "../support/documents";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(120_000);

const run = promisify(execFile);
const CLI = path.join(__dirname, "..", "..", "..", "cli", "dist", "src", "main.js");
const WEBHOOK_SECRET = "target-hmac-secret-0123456789";
const API_KEY = "lighthouse-api-key-secret-42";

let source: TestServer;
let restored: TestServer;
let dir: string;
beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first.`);
  [source, restored] = await Promise.all([startTestServer(), startTestServer()]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-backup-"));
});
afterAll(async () => {
  await source?.stop();
  await restored?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function sluice(t: TestServer, ...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? "", SLUICE_ENDPOINT: t.url, SLUICE_TOKEN: ADMIN_TOKEN },
      cwd: dir,
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

const lighthouse = {
  category: "Test",
  provider: "Lighthouse",
  version: "2",
  configurationProperties: [
    { name: "Url", required: true, secret: false, description: "page to audit" },
    { name: "ApiKey", required: false, secret: true },
  ],
  inputArtifactDetails: { minimumCount: 1, maximumCount: 1 },
  outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
};
const audited = simplePipeline("audited", {
  stages: [
    simplePipeline("audited").stages[0],
    {
      name: "Audit",
      actions: [
        {
          name: "Lighthouse",
          actionTypeId: { category: "Test", owner: "Custom", provider: "Lighthouse", version: "2" },
          configuration: { Url: "https://app.example", ApiKey: API_KEY },
          inputArtifacts: [{ name: "SourceCode" }],
        },
      ],
    },
  ],
});

/** What a server holds, as its own export shows it, without the moment of the export. */
async function stateOf(t: TestServer, includeExecutions = false): Promise<Record<string, unknown>> {
  const { exportInstallation } = dataOf(
    await t.gql(`mutation ($x: Boolean!) { exportInstallation(includeExecutions: $x) }`, {
      x: includeExecutions,
    }),
  );
  const { exportedAt: _at, ...rest } = exportInstallation;
  return rest;
}

async function fill(t: TestServer): Promise<string> {
  const gql = async (query: string, variables: Record<string, unknown>) =>
    dataOf(await t.gql(query, variables));
  await gql(
    `mutation ($input: CustomActionTypeInput!) { createCustomActionType(input: $input) { id { provider } } }`,
    {
      input: lighthouse,
    },
  );
  const CREATE = `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`;
  await gql(CREATE, { input: simplePipeline("app") });
  await gql(
    `mutation ($input: PipelineInput!) { updatePipeline(input: $input, expectedVersion: 1) { version } }`,
    {
      input: simplePipeline("app", { executionMode: "QUEUED" }),
    },
  );
  await gql(CREATE, { input: audited });
  await gql(`mutation { createPipelineWebhook(pipelineName: "app") { url } }`, {});
  const { token } = (
    await gql(`mutation ($d: String!) { createAgentToken(description: $d) { token } }`, { d: "builders" })
  ).createAgentToken;
  const target = (
    await gql(
      `mutation ($target: NotificationTargetInput!) { createNotificationTarget(target: $target) { id } }`,
      {
        target: {
          name: "chatops",
          kind: "WEBHOOK",
          url: "https://hooks.example.com/sluice",
          secret: WEBHOOK_SECRET,
        },
      },
    )
  ).createNotificationTarget;
  await gql(`mutation ($rule: NotificationRuleInput!) { createNotificationRule(rule: $rule) { id } }`, {
    rule: {
      name: "failures",
      pipelineName: "app",
      eventTypes: ["EXECUTION_FAILED"],
      detailLevel: "BASIC",
      enabled: true,
      targetIds: [target.id],
    },
  });
  return token;
}

it("exports one installation and imports it into a fresh one, which then runs a pipeline", async () => {
  const sourceWorker = await TestWorker.start(
    source.natsPrefix,
    [GIT, SHELL("Build"), { category: "Test", owner: "Custom", provider: "Lighthouse", version: "2" }],
    (job) =>
      job.actionTypeId.category === "Source"
        ? { outcome: "Succeeded", outputVariables: { CommitId: "0123abc" } }
        : { outcome: "Succeeded" },
  );
  let agentToken: string;
  try {
    agentToken = await fill(source);
    // The first executions of both pipelines (the Lighthouse job has a secret) run to the end.
    await eventually(
      async () => {
        const rows = await source.server.db.query(`SELECT status FROM pipeline_executions`);
        return rows.length === 2 && rows.every((r: { status: string }) => r.status === "Succeeded");
      },
      60_000,
      "the source's executions to succeed",
    );
    // Jobs carry the secret as an envelope (agents ask for it sealed), never in clear.
    const lighthouse = sourceWorker.jobs.filter((j) => j.actionTypeId.provider === "Lighthouse");
    expect(lighthouse.length).toBeGreaterThan(0);
    expect(lighthouse.every((j) => JSON.stringify(j).includes("sluice:enc:v1:"))).toBe(true);
    expect(sourceWorker.jobs.some((j) => JSON.stringify(j).includes(API_KEY))).toBe(false);
  } finally {
    await sourceWorker.stop();
  }

  // Export with the CLI, to a file only its owner reads, with the execution history.
  const exported = await sluice(
    source,
    "admin",
    "export",
    "--include-executions",
    "--output-file",
    "backup.json",
  );
  expect(exported).toMatchObject({ code: 0 });
  const file = path.join(dir, "backup.json");
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  const text = fs.readFileSync(file, "utf8");
  const archive = JSON.parse(text);
  expect(archive).toMatchObject({ format: "sluice-installation-archive", formatVersion: 1 });
  // No secret in clear: not the action's, not the target's, not the agent token itself.
  for (const secret of [API_KEY, WEBHOOK_SECRET, agentToken]) expect(text).not.toContain(secret);
  expect(archive.agentTokens[0].tokenHash).toBe(crypto.createHash("sha256").update(agentToken).digest("hex"));
  expect(archive.pipelines.find((p: any) => p.name === "app").versions.map((v: any) => v.version)).toEqual([
    1, 2,
  ]);
  expect(archive.executions.map((e: any) => [e.pipelineName, e.status])).toEqual(
    expect.arrayContaining([
      ["app", "Succeeded"],
      ["audited", "Succeeded"],
    ]),
  );
  const auditedRun = archive.executions.find((e: any) => e.pipelineName === "audited");
  expect(auditedRun.view.stages[1].actions[0].resolvedConfiguration).toEqual({
    Url: "https://app.example",
    ApiKey: "****",
  });

  const empty = await stateOf(restored);

  // A newer format is refused before anything else, and changes nothing.
  fs.writeFileSync(path.join(dir, "newer.json"), JSON.stringify({ ...archive, formatVersion: 2 }));
  const newer = await sluice(restored, "admin", "import", "--archive", "file://newer.json");
  expect(newer.code).not.toBe(0);
  expect(newer.stderr).toContain("format version 2; this server reads versions up to 1");
  const newerByApi = await restored.gql(
    `mutation ($a: JSON!) { importInstallation(archive: $a) { pipelines } }`,
    {
      a: { ...archive, formatVersion: 2 },
    },
  );
  expect(newerByApi.errors?.[0]?.extensions).toMatchObject({
    code: "BAD_USER_INPUT",
    reason: "UNSUPPORTED_FORMAT_VERSION",
    formatVersion: 2,
  });
  expect(await stateOf(restored)).toEqual(empty);

  // A bad document in the last pipeline: every problem with its path, nothing imported.
  const broken = structuredClone(archive);
  const last = broken.pipelines.length - 1;
  broken.pipelines[last].versions.at(-1).document.stages[1].actions[0].runOrder = 0;
  broken.agentTokens.push({ ...broken.agentTokens[0], tokenHash: "not-a-digest" });
  const bad = await restored.gql(`mutation ($a: JSON!) { importInstallation(archive: $a) { pipelines } }`, {
    a: broken,
  });
  expect(bad.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(bad.errors?.[0]?.extensions?.validationErrors.map((e: any) => e.path)).toEqual([
    `archive.agentTokens[1].tokenHash`,
  ]);
  broken.agentTokens.pop();
  const badDocument = await restored.gql(
    `mutation ($a: JSON!) { importInstallation(archive: $a) { pipelines } }`,
    {
      a: broken,
    },
  );
  expect(badDocument.errors?.[0]?.extensions?.validationErrors.map((e: any) => e.path)).toEqual([
    `archive.pipelines[${last}].versions[${broken.pipelines[last].versions.length - 1}].document.stages[1].actions[0].runOrder`,
  ]);
  expect(await stateOf(restored)).toEqual(empty);

  // The archive itself, with the CLI.
  const imported = await sluice(restored, "admin", "import", "--archive", "file://backup.json");
  expect(imported).toMatchObject({ code: 0 });
  expect(JSON.parse(imported.stdout).import).toEqual({
    pipelines: 2,
    pipelineVersions: 3,
    customActionTypes: 1,
    agentTokens: 1,
    notificationTargets: 1,
    notificationRules: 1,
    executions: 2,
    webhooksToRenew: ["app"],
    secretsToReenter: ["pipeline/audited: stages[1].actions[0].configuration.ApiKey"],
    targetsToReenter: ["chatops"],
  });

  // The same definitions; the rule whose target lost its secret waits, disabled.
  const expected = structuredClone(archive);
  delete expected.exportedAt;
  expected.notificationRules[0].enabled = false;
  expect(await stateOf(restored, true)).toEqual(expected);
  delete expected.executions;
  expect(await stateOf(restored)).toEqual(expected);
  const restoredRun = dataOf(
    await restored.gql(`query ($id: ID!) { pipelineExecution(id: $id) { status events { sequence } } }`, {
      id: auditedRun.id,
    }),
  ).pipelineExecution;
  expect(restoredRun.status).toBe("Succeeded");
  expect(restoredRun.events).toHaveLength(auditedRun.events.length);

  // Importing again clashes on every name, and changes nothing.
  const before = await stateOf(restored);
  const again = await restored.gql(`mutation ($a: JSON!) { importInstallation(archive: $a) { pipelines } }`, {
    a: archive,
  });
  expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");
  expect(again.errors?.[0]?.message).toContain('pipeline "app"');
  expect(await stateOf(restored)).toEqual(before);

  // Without a token: refused.
  const anonymous = await restored.gql(`mutation { exportInstallation }`, {}, { token: null });
  expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");

  // Every call is in the audit log, the archive reduced to what it is: the CLI's under
  // importInstallationV2 (its input holds the archive), this test's own under the deprecated name.
  const importsAs = async (operation: string) =>
    dataOf(
      await restored.gql(
        `query ($o: String!) { auditEvents(operation: $o, first: 10) { nodes { outcome arguments principal } } }`,
        { o: operation },
      ),
    ).auditEvents.nodes;
  const viaCli = await importsAs("importInstallationV2");
  const audit = [...viaCli, ...(await importsAs("importInstallation"))];
  expect(audit.map((e: any) => e.outcome).sort()).toEqual(
    ["BAD_USER_INPUT", "BAD_USER_INPUT", "BAD_USER_INPUT", "BAD_USER_INPUT", "CONFLICT", "ok"].sort(),
  );
  expect(viaCli.find((e: any) => e.outcome === "ok").arguments).toEqual({
    input: {
      archive: {
        format: "sluice-installation-archive",
        formatVersion: 1,
        pipelines: 2,
        agentTokens: 1,
        notificationRules: 1,
      },
    },
  });
  expect(JSON.stringify(audit)).not.toContain(archive.agentTokens[0].tokenHash);
  const exports = dataOf(
    await source.gql(`{ auditEvents(operation: "exportInstallationV2", first: 10) { nodes { outcome } } }`),
  ).auditEvents.nodes;
  expect(exports.map((e: any) => e.outcome)).toContain("ok");

  // The restored installation runs the pipeline (its own NATS prefix, its own agent).
  const worker = await TestWorker.start(restored.natsPrefix, [GIT, SHELL("Build")], (job) =>
    job.actionTypeId.category === "Source"
      ? { outcome: "Succeeded", outputVariables: { CommitId: "0123abc" } }
      : { outcome: "Succeeded" },
  );
  try {
    const { id } = dataOf(
      await restored.gql(`mutation { releaseChange(pipelineName: "app") { id } }`),
    ).releaseChange;
    await eventually(
      async () =>
        dataOf(await restored.gql(`query ($id: ID!) { pipelineExecution(id: $id) { status } }`, { id }))
          .pipelineExecution.status === "Succeeded",
      60_000,
      "the restored pipeline's execution to succeed",
    ).catch(async (error) => {
      const state = await restored.gql(
        `query ($id: ID!) { pipelineExecution(id: $id) { status statusSummary waitingReason { code message } } }`,
        { id },
      );
      throw new Error(
        `${(error as Error).message}: ${JSON.stringify(state)} jobs ${JSON.stringify(worker.jobs.length)}`,
      );
    });
  } finally {
    await worker.stop();
  }
});
