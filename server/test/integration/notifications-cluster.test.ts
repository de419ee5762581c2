/**
 * Notifications with server processes: two copies on one database deliver each message once; a
 * copy killed (SIGKILL) while a delivery is on its way leaves it to the next copy, same message
 * id; an SMTP server nobody answers on is a failed delivery with its reason.
 */
import net from "node:net";
import { installation, killStarted, startSluiceProcess, waitForJetStream } from "../support/cluster";
import type { Installation, SluiceProcess } from "../support/cluster";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { CREATE } from "../support/documents";
import { deleteStreams } from "../support/nats";
import { selfSignedCertificate, startHttpsReceiver } from "../support/receivers";
import { dataOf } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

jest.setTimeout(90_000);

const SECRET = "whsec-cluster-0123456789";
const DASHBOARD = "https://dash.example.com";
const RELEASES = 10;

let db: TestDatabase;
let inst: Installation;
let cert: ReturnType<typeof selfSignedCertificate>;
let web: Awaited<ReturnType<typeof startHttpsReceiver>>;
let worker: TestWorker | undefined;
let env: Record<string, string>;

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  db = await createTestDatabase();
  inst = installation(db.url);
  cert = selfSignedCertificate();
  web = await startHttpsReceiver(cert);
  env = {
    SLUICE_NOTIFY_CA_FILE: cert.certFile,
    SLUICE_NOTIFY_ALLOW_PRIVATE: "true",
    SLUICE_DASHBOARD_URL: DASHBOARD,
    SLUICE_SMTP_URL: `smtp://127.0.0.1:${await closedPort()}`,
    SLUICE_NOTIFY_TIMEOUT_MS: "1500",
    SLUICE_NOTIFY_RETRY_BASE_MS: "100",
    SLUICE_NOTIFY_RETRY_MAX_DELAY_MS: "400",
    SLUICE_NOTIFY_RETRY_FOR_SECONDS: "3",
  };
});

afterAll(async () => {
  await worker?.stop();
  await killStarted();
  if (inst) {
    await deleteStreams(inst.natsPrefix);
    inst.cleanup();
  }
  await db?.drop();
  await web?.close();
  cert?.cleanup();
});

const type = (category: string, provider: string) => ({ category, owner: "Sluice", provider, version: "1" });
const pipeline = (name: string) => ({
  name,
  executionMode: "PARALLEL",
  stages: [
    {
      name: "Source",
      actions: [
        {
          name: "Checkout",
          actionTypeId: type("Source", "Git"),
          configuration: { Repository: "https://git.example/app.git", Branch: "main" },
          outputArtifacts: [{ name: "Src" }],
        },
      ],
    },
    {
      name: "Build",
      actions: [
        {
          name: "Compile",
          actionTypeId: type("Build", "Shell"),
          configuration: { Commands: "make" },
          inputArtifacts: [{ name: "Src" }],
        },
      ],
    },
  ],
});

async function target(p: SluiceProcess, input: Record<string, unknown>): Promise<string> {
  return dataOf(
    await p.gql(`mutation ($t: NotificationTargetInput!) { createNotificationTarget(target: $t) { id } }`, {
      t: input,
    }),
  ).createNotificationTarget.id;
}
async function rule(p: SluiceProcess, input: Record<string, unknown>): Promise<string> {
  return dataOf(
    await p.gql(`mutation ($r: NotificationRuleInput!) { createNotificationRule(rule: $r) { id } }`, {
      r: input,
    }),
  ).createNotificationRule.id;
}
async function deliveries(p: SluiceProcess, ruleId: string): Promise<any[]> {
  return dataOf(
    await p.gql(
      `query ($id: ID) { notificationDeliveries(ruleId: $id, first: 100) {
         nodes { id status attempts lastError targetName history { attempt ok statusCode error } } } }`,
      { id: ruleId },
    ),
  ).notificationDeliveries.nodes;
}

it("two server copies deliver each execution's message once; an unreachable SMTP server fails with its reason", async () => {
  // A generous time limit: on a loaded machine an attempt cut off by it would be sent again (at
  // least once), and this test counts exactly-once deliveries of the normal case.
  const relaxed = { ...env, SLUICE_NOTIFY_TIMEOUT_MS: "10000" };
  const [a, b] = await Promise.all([startSluiceProcess(inst, relaxed), startSluiceProcess(inst, relaxed)]);
  await waitForJetStream(inst.natsPrefix);
  worker = await TestWorker.start(inst.natsPrefix, [GIT, SHELL("Build")], (job) => ({
    outcome: "Succeeded",
    outputVariables:
      job.stageName === "Source" ? { CommitId: job.jobId.slice(0, 8) } : ({} as Record<string, string>),
  }));
  web.expectSecret("/twin", SECRET);
  const hook = await target(a, { name: "twin-hook", kind: "WEBHOOK", url: web.url("/twin"), secret: SECRET });
  const mail = await target(a, {
    name: "nobody-listens",
    kind: "EMAIL",
    emailAddresses: ["ops@example.com"],
  });
  const done = await rule(b, {
    name: "twin-done",
    pipelineName: "twin",
    eventTypes: ["EXECUTION_SUCCEEDED"],
    detailLevel: "FULL",
    targetIds: [hook],
  });
  const mailRule = await rule(b, {
    name: "twin-created",
    pipelineName: "twin",
    eventTypes: ["PIPELINE_CREATED"],
    targetIds: [mail],
  });

  dataOf(await a.gql(CREATE, { input: pipeline("twin") })); // its first execution starts at once
  await Promise.all(
    Array.from({ length: RELEASES }, (_, i) =>
      (i % 2 ? a : b).gql(`mutation { releaseChange(pipelineName: "twin") { id } }`).then(dataOf),
    ),
  );
  await eventually(
    async () => web.accepted("/twin").length >= RELEASES + 1,
    60_000,
    `${RELEASES + 1} execution messages`,
  );
  const accepted = web.accepted("/twin");
  const ids = accepted.map((r) => r.json.id);
  expect(new Set(ids).size).toBe(ids.length); // no message twice
  const executions = new Set(accepted.map((r) => r.json.execution.id));
  expect(executions.size).toBe(RELEASES + 1);
  for (const r of accepted) {
    expect(r.signatureValid).toBe(true);
    expect(r.json).toMatchObject({ type: "EXECUTION_SUCCEEDED", status: "Succeeded" });
    expect(r.json.link).toBe(`${DASHBOARD}/executions/${r.json.execution.id}`);
    expect(r.json.execution.branches).toEqual(["main"]);
  }
  const log = await eventually(async () => {
    const rows = await deliveries(b, done);
    return rows.length === RELEASES + 1 && rows.every((d) => d.status === "SUCCEEDED") && rows;
  });
  expect(log.every((d) => d.attempts === 1)).toBe(true);
  expect(web.accepted("/twin")).toHaveLength(RELEASES + 1);

  let seen: unknown;
  const [failed] = await eventually(async () => {
    const rows = await deliveries(a, mailRule);
    seen = rows;
    return rows.length === 1 && rows[0].status === "FAILED" && rows;
  }, 30_000).catch((error) => {
    throw new Error(`${error}: ${JSON.stringify(seen)}`);
  });
  expect(failed.lastError).toMatch(/ECONNREFUSED|ESOCKET|connect/);
  expect(failed.history.length).toBeGreaterThan(1); // retried until SLUICE_NOTIFY_RETRY_FOR_SECONDS
  expect(failed.history.every((h: any) => !h.ok)).toBe(true);

  await worker.stop();
  worker = undefined;
  await Promise.all([a.kill9(), b.kill9()]);
});

it("a copy killed while a delivery is on its way leaves it to the next copy, with the same message id", async () => {
  const a = await startSluiceProcess(inst, env);
  dataOf(await a.gql(CREATE, { input: pipeline("crash") }));
  const slow = await target(a, { name: "slow", kind: "WEBHOOK", url: web.url("/slow") });
  const r = await rule(a, {
    name: "freeze",
    pipelineName: "crash",
    eventTypes: ["TRANSITION_DISABLED"],
    targetIds: [slow],
  });
  web.holdNext("/slow", 1);
  dataOf(
    await a.gql(
      `mutation { toggleTransition(pipelineName: "crash", stageName: "Build", enabled: false, reason: "x") { enabled } }`,
    ),
  );
  // The event is committed and its delivery is on the wire: now the copy dies before an answer.
  const held = await eventually(async () => web.held[0], 15_000, "the held request").catch(async (error) => {
    throw new Error(`${error}\n${a.output()}`);
  });
  await a.kill9();
  expect(web.accepted("/slow")).toHaveLength(0);

  const c = await startSluiceProcess(inst, env);
  const redelivered = await eventually(
    async () => web.accepted("/slow")[0],
    30_000,
    "the delivery after restart",
  ).catch(async (error) => {
    const rows = await c.gql(
      `{ notificationDeliveries(first: 20) { nodes { id status attempts targetName lastError nextAttemptAt } } }`,
    );
    throw new Error(
      `${error}\n${JSON.stringify(rows)}\n${JSON.stringify(web.received.slice(-5).map((x) => [x.path, x.status]))}\n${JSON.stringify(web.held.map((x) => x.json?.id))}\n${c.output().slice(-2000)}`,
    );
  });
  expect(redelivered.json.id).toBe(held.json.id);
  expect(redelivered.json.type).toBe("TRANSITION_DISABLED");
  const [row] = await eventually(async () => {
    const rows = await deliveries(c, r);
    return rows[0]?.status === "SUCCEEDED" && rows;
  });
  expect(row).toMatchObject({ id: held.json.id, attempts: 2 });
  // The first attempt died with its copy: only the second one is in the log.
  expect(row.history).toEqual([expect.objectContaining({ attempt: 2, ok: true, statusCode: 200 })]);
  expect(web.accepted("/slow")).toHaveLength(1);
});
