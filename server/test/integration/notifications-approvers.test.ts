/**
 * Approval-needed e-mails to the people allowed to approve (issue #14), with server processes on
 * real PostgreSQL and NATS and a real SMTP server started here: the users whom the checker lets
 * putApprovalResult on the approval (their policies or their groups') and who have an address
 * get one e-mail each, with the pipeline, stage, action, CustomData, ExternalEntityLink and the
 * link that opens the approval; a user without the permission, or without an address, gets none.
 * The server is killed (SIGKILL) while an e-mail is on the wire: the next copy sends it, same
 * message id.
 */
import { installation, killStarted, startSluiceProcess, waitForJetStream } from "../support/cluster";
import type { Installation, SluiceProcess } from "../support/cluster";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { CREATE } from "../support/documents";
import { deleteStreams } from "../support/nats";
import { startSmtpReceiver } from "../support/receivers";
import { dataOf } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, TestWorker } from "../support/worker";

jest.setTimeout(120_000);

const DASHBOARD = "https://dash.example.com";
const SRN = "srn:sluice:default";

let db: TestDatabase;
let inst: Installation;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let worker: TestWorker | undefined;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase();
  inst = installation(db.url);
  smtp = await startSmtpReceiver();
  env = {
    SLUICE_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    SLUICE_SMTP_FROM: "Sluice <sluice@example.com>",
    SLUICE_DASHBOARD_URL: DASHBOARD,
    // An attempt's lease is three time limits: a killed copy's e-mail is sent again after it.
    SLUICE_NOTIFY_TIMEOUT_MS: "1500",
    SLUICE_NOTIFY_RETRY_BASE_MS: "100",
    SLUICE_NOTIFY_RETRY_MAX_DELAY_MS: "400",
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
  await smtp?.close();
});

const type = (category: string, provider: string) => ({ category, owner: "Sluice", provider, version: "1" });
const pipeline = {
  name: "web",
  stages: [
    {
      name: "Source",
      actions: [
        {
          name: "Checkout",
          actionTypeId: type("Source", "Git"),
          namespace: "SourceVariables",
          configuration: { Repository: "https://git.example/web.git", Branch: "main" },
          outputArtifacts: [{ name: "Src" }],
        },
      ],
    },
    {
      name: "Prod",
      actions: [
        {
          name: "Approve",
          actionTypeId: type("Approval", "Manual"),
          configuration: {
            CustomData: "Check the canary dashboard before approving #{SourceVariables.CommitId}",
            ExternalEntityLink: "https://canary.example.com/web",
          },
        },
      ],
    },
  ],
};

async function call(p: SluiceProcess, query: string, variables: Record<string, unknown> = {}) {
  return dataOf(await p.gql(query, variables));
}

const DELIVERIES = `query ($rule: ID) { notificationDeliveries(ruleId: $rule, first: 50) {
  nodes { id status attempts eventType targetId targetName recipient link lastError history { attempt ok } } } }`;

it("e-mails exactly the users allowed to approve, with the approval's details, and survives a SIGKILL mid-delivery", async () => {
  const a = await startSluiceProcess(inst, env);
  await waitForJetStream(inst.natsPrefix);
  worker = await TestWorker.start(inst.natsPrefix, [GIT], () => ({
    outcome: "Succeeded",
    outputVariables: { CommitId: "c0ffee1234567890" },
  }));
  await call(a, `mutation ($n: String!, $d: JSONObject!) { putPolicy(name: $n, document: $d) { name } }`, {
    n: "web-prod-approvers",
    d: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["sluice:PutApprovalResult"],
          Resource: [`${SRN}:pipeline/web/stage/Prod/*`],
        },
      ],
    },
  });
  const user = async (name: string, email: string | null, policies: string[]) => {
    await call(a, `mutation ($n: String!, $e: String) { createUser(name: $n, email: $e) { name } }`, {
      n: name,
      e: email,
    });
    for (const policy of policies) {
      await call(a, `mutation ($p: String!, $u: String!) { attachPolicy(policyName: $p, principal: $u) }`, {
        p: policy,
        u: `user/${name}`,
      });
    }
  };
  await user("alice", "alice@example.com", ["ReadOnly", "web-prod-approvers"]);
  await user("bob", "bob@example.com", ["ReadOnly"]);
  await user("carol", null, ["web-prod-approvers"]);
  // dave may approve through his group's policy.
  await user("dave", "dave@example.com", ["ReadOnly"]);
  await call(a, `mutation { createGroup(name: "releasers") { name } }`);
  await call(a, `mutation { addUserToGroup(groupName: "releasers", userName: "dave") }`);
  await call(a, `mutation { attachPolicy(policyName: "web-prod-approvers", principal: "group/releasers") }`);

  const nats = (
    await call(
      a,
      `mutation { createNotificationTarget(target: { name: "approvals-bus", kind: NATS, subject: "approvals" }) { id } }`,
    )
  ).createNotificationTarget.id;
  const ruleId = (
    await call(a, `mutation ($r: NotificationRuleInput!) { createNotificationRule(rule: $r) { id } }`, {
      r: { name: "web-approvals", pipelineName: "web", eventTypes: ["APPROVAL_NEEDED"], targetIds: [nats] },
    })
  ).createNotificationRule.id;

  // alice's e-mail is read by the SMTP server and never answered: the copy dies meanwhile.
  smtp.holdNextTo("alice@example.com", 1);
  await call(a, CREATE, { input: pipeline }); // its first execution starts at once
  const held = await eventually(async () => smtp.held[0], 30_000, "alice's e-mail on the wire").catch(
    (error) => {
      throw new Error(`${error}\n${a.output().slice(-3000)}`);
    },
  );
  // dave's e-mail went out meanwhile: the kill cuts off alice's alone (a delivery sent but not yet
  // recorded when its copy dies is sent again: at least once).
  await eventually(async () => {
    const rows = (await call(a, DELIVERIES, { rule: ruleId })).notificationDeliveries.nodes as any[];
    return rows.some((d) => d.recipient === "dave" && d.status === "SUCCEEDED");
  }, 30_000);
  await a.kill9();
  expect(smtp.mails.filter((m) => m.to.includes("alice@example.com"))).toHaveLength(0);

  const c = await startSluiceProcess(inst, env);
  const alice = await eventually(
    async () => smtp.mails.find((m) => m.to.includes("alice@example.com")),
    30_000,
    "alice's e-mail after the restart",
  ).catch((error) => {
    throw new Error(`${error}\n${c.output().slice(-3000)}`);
  });
  const messageId = /^Message-ID: <([^@>]+)@sluice>/im.exec(alice.raw)?.[1];
  expect(messageId).toBeDefined();
  expect(held.raw).toContain(`<${messageId}@sluice>`); // the same message, sent again

  const log = await eventually(async () => {
    const rows = (await call(c, DELIVERIES, { rule: ruleId })).notificationDeliveries.nodes as any[];
    return rows.length === 3 && rows.every((d) => d.status === "SUCCEEDED") && rows;
  }, 30_000);
  // One delivery per approver with an address, and the rule's own target: nobody else.
  expect(log.map((d) => d.recipient ?? d.targetName).sort()).toEqual(["alice", "approvals-bus", "dave"]);
  const aliceRow = log.find((d) => d.recipient === "alice");
  expect(aliceRow).toMatchObject({ id: messageId, targetId: null, targetName: "user/alice", attempts: 2 });
  expect(aliceRow.history).toEqual([expect.objectContaining({ attempt: 2, ok: true })]);

  // The approval that waits, and the link that opens it.
  const execution = (
    await call(
      c,
      `{ pipeline(name: "web") { executions(first: 1) { nodes { id stages { name actions { id name approvalPending } } } } } }`,
    )
  ).pipeline.executions.nodes[0];
  const approval = execution.stages.find((s: any) => s.name === "Prod").actions[0];
  expect(approval.approvalPending).toBe(true);
  const link = `${DASHBOARD}/pipelines/web?approval=${approval.id}`;
  expect(aliceRow.link).toBe(link);

  // Exactly alice and dave, once each.
  const to = smtp.mails.flatMap((m) => m.to).sort();
  expect(to).toEqual(["alice@example.com", "dave@example.com"]);
  expect(alice.decoded).toMatch(/^Subject: \[Sluice\] Approval needed: web \/ Prod \/ Approve/m);
  expect(alice.decoded).toContain("Pipeline: web");
  expect(alice.decoded).toContain("Stage: Prod");
  expect(alice.decoded).toContain("Action: Approve");
  expect(alice.decoded).toContain(`Execution: ${execution.id}`);
  // CustomData as resolved when the approval started (its variable filled in).
  expect(alice.decoded).toContain("Note: Check the canary dashboard before approving c0ffee1234567890");
  expect(alice.decoded).toContain("Review at: https://canary.example.com/web");
  expect(alice.decoded).toContain(`Approve or reject: ${link}`);
  expect(alice.decoded).toContain(`href="${link.replace("&", "&amp;")}"`);
  expect(alice.decoded).toContain("user alice may approve it (sluice:PutApprovalResult)");
});
