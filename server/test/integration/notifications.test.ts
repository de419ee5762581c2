/**
 * Notifications end to end against real receivers started here: an HTTPS server with a
 * self-signed certificate the server is told to trust (it checks the HMAC signature), an SMTP
 * server, a NATS subscriber. Retries, the delivery log, tests, redeliveries, masking and bad input.
 */
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import type { Subscription } from "@nats-io/transport-node";
import { CREATE, simplePipeline } from "../support/documents";
import { connectNats } from "../support/nats";
import { selfSignedCertificate, startHttpsReceiver, startSmtpReceiver } from "../support/receivers";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

const SECRET = "whsec-0123456789abcdef";
const DASHBOARD = "https://dash.example.com";

let t: TestServer;
let cert: ReturnType<typeof selfSignedCertificate>;
let web: Awaited<ReturnType<typeof startHttpsReceiver>>;
let smtp: Awaited<ReturnType<typeof startSmtpReceiver>>;
let nc: Awaited<ReturnType<typeof connectNats>>;
let natsSub: Subscription;
const natsMessages: Array<{ subject: string; id: string | undefined; json: any }> = [];

beforeAll(async () => {
  cert = selfSignedCertificate();
  web = await startHttpsReceiver(cert);
  smtp = await startSmtpReceiver();
  t = await startTestServer({
    env: {
      SLUICE_NOTIFY_CA_FILE: cert.certFile,
      SLUICE_NOTIFY_ALLOW_PRIVATE: "true",
      SLUICE_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      SLUICE_SMTP_FROM: "Sluice <sluice@example.com>",
      SLUICE_DASHBOARD_URL: DASHBOARD,
      SLUICE_NOTIFY_RETRY_BASE_MS: "50",
      SLUICE_NOTIFY_RETRY_MAX_DELAY_MS: "200",
      SLUICE_NOTIFY_CIRCUIT_THRESHOLD: "3",
      SLUICE_NOTIFY_CONCURRENCY_PER_TARGET: "2",
      SLUICE_NOTIFY_CIRCUIT_OPEN_MS: "600000",
    },
  });
  nc = await connectNats();
  natsSub = nc.subscribe(`${t.natsPrefix}_notify.team.builds`, {
    callback: (_error, msg) => {
      natsMessages.push({ subject: msg.subject, id: msg.headers?.get("Nats-Msg-Id"), json: msg.json() });
    },
  });
  await nc.flush();
});
afterAll(async () => {
  natsSub?.unsubscribe();
  await nc?.close();
  await t?.stop();
  await web?.close();
  await smtp?.close();
  cert?.cleanup();
});

const CREATE_TARGET = /* GraphQL */ `
  mutation ($target: NotificationTargetInput!) {
    createNotificationTarget(target: $target) {
      id
      name
      kind
      url
      secret
      headers {
        name
        value
      }
      emailAddresses
      subject
      natsSubject
    }
  }
`;
const CREATE_RULE = /* GraphQL */ `
  mutation ($rule: NotificationRuleInput!) {
    createNotificationRule(rule: $rule) {
      id
      name
      eventTypes
      enabled
      targetIds
    }
  }
`;
const DELIVERIES = /* GraphQL */ `
  query ($ruleId: ID, $targetId: ID, $status: NotificationDeliveryStatus) {
    notificationDeliveries(ruleId: $ruleId, targetId: $targetId, status: $status, first: 100) {
      nodes {
        id
        eventType
        targetName
        status
        attempts
        lastStatusCode
        lastError
        link
        message
        history {
          attempt
          ok
          statusCode
          latencyMs
          error
        }
      }
    }
  }
`;

async function target(input: Record<string, unknown>): Promise<any> {
  return dataOf(await t.gql(CREATE_TARGET, { target: input })).createNotificationTarget;
}
async function rule(input: Record<string, unknown>): Promise<any> {
  return dataOf(await t.gql(CREATE_RULE, { rule: input })).createNotificationRule;
}
async function deliveries(vars: Record<string, unknown>): Promise<any[]> {
  return dataOf(await t.gql(DELIVERIES, vars)).notificationDeliveries.nodes;
}

it("tells the caller whether it may change notifications (whoAmI.allowed), refusing a bad SRN", async () => {
  const ALLOWED = `query ($r: String!) { whoAmI { allowed(action: "sluice:ManageNotifications", resource: $r) } }`;
  expect(dataOf(await t.gql(ALLOWED, { r: "srn:sluice:default:notifications" })).whoAmI.allowed).toBe(true);
  const bad = await t.gql(ALLOWED, { r: "notifications" });
  expect(bad.errors?.[0]?.extensions).toMatchObject({
    code: "BAD_USER_INPUT",
    validationErrors: [{ path: "resource" }],
  });
  dataOf(await t.gql(`mutation { createUser(name: "reader") { name } }`));
  dataOf(await t.gql(`mutation { attachPolicy(policyName: "ReadOnly", principal: "user/reader") }`));
  const { secret } = dataOf(
    await t.gql(`mutation { createApiToken(principal: "user/reader", description: "t") { secret } }`),
  ).createApiToken;
  const asReader = await t.gql(ALLOWED, { r: "srn:sluice:default:notifications" }, { token: secret });
  expect(dataOf(asReader).whoAmI.allowed).toBe(false);
});

it("refuses bad input at its field and changes nothing", async () => {
  const badType = await t.gql(CREATE_RULE, {
    rule: { name: "r", eventTypes: ["EXECUTION_EXPLODED"], targetIds: [] },
  });
  expect(badType.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(badType.errors?.[0]?.message).toMatch(/EXECUTION_EXPLODED/);

  const badUrl = await t.gql(CREATE_TARGET, { target: { name: "hook", kind: "WEBHOOK", url: "ftp://x" } });
  expect(badUrl.errors?.[0]?.extensions).toMatchObject({
    code: "BAD_USER_INPUT",
    validationErrors: [{ path: "target.url", message: "must be an https URL" }],
  });
  const badMail = await t.gql(CREATE_TARGET, {
    target: { name: "mail", kind: "EMAIL", emailAddresses: ["ops@example.com", "not-an-address"] },
  });
  expect(badMail.errors?.[0]?.extensions).toMatchObject({
    code: "BAD_USER_INPUT",
    validationErrors: [{ path: "target.emailAddresses[1]" }],
  });
  const unknownTarget = await t.gql(CREATE_RULE, {
    rule: {
      name: "r",
      eventTypes: ["PIPELINE_CREATED"],
      targetIds: ["7d1c6f0e-0000-4000-8000-000000000000"],
    },
  });
  expect(unknownTarget.errors?.[0]?.extensions).toMatchObject({
    code: "BAD_USER_INPUT",
    validationErrors: [{ path: "rule.targetIds[0]" }],
  });
  const lists = dataOf(await t.gql(`{ notificationTargets { id } notificationRules { id } }`));
  expect(lists).toEqual({ notificationTargets: [], notificationRules: [] });
});

it("sends a pipeline's event to a signed webhook, Slack, e-mail and NATS, with the dashboard link", async () => {
  web.expectSecret("/hook", SECRET);
  const hook = await target({
    name: "ci-hook",
    kind: "WEBHOOK",
    url: web.url("/hook"),
    secret: SECRET,
    headers: [{ name: "X-Team", value: "platform-token-123" }],
  });
  expect(hook).toMatchObject({ secret: "****", headers: [{ name: "X-Team", value: "****" }] });
  const slack = await target({ name: "chat", kind: "SLACK", url: web.url("/slack/T000/B000/XXXX") });
  expect(slack.url).toBe(`${web.url("")}/****`);
  const mail = await target({ name: "ops-mail", kind: "EMAIL", emailAddresses: ["ops@example.com"] });
  const bus = await target({ name: "bus", kind: "NATS", subject: "team.builds" });
  expect(bus.natsSubject).toBe(`${t.natsPrefix}_notify.team.builds`);
  const r = await rule({
    name: "app-lifecycle",
    pipelineName: "app",
    eventTypes: ["PIPELINE_CREATED"],
    detailLevel: "FULL",
    targetIds: [hook.id, slack.id, mail.id, bus.id],
  });

  dataOf(await t.gql(CREATE, { input: simplePipeline("other") })); // no rule wants it
  dataOf(await t.gql(CREATE, { input: simplePipeline("app") }));

  const [signed] = await eventually(async () => web.accepted("/hook").length > 0 && web.accepted("/hook"));
  expect(signed!.signatureValid).toBe(true);
  expect(signed!.headers["x-team"]).toBe("platform-token-123");
  expect(signed!.json).toMatchObject({
    schemaVersion: 1,
    type: "PIPELINE_CREATED",
    test: false,
    message: "Pipeline app was created (version 1)",
    link: `${DASHBOARD}/pipelines/app`,
    pipeline: { name: "app", version: 1 },
    execution: null,
    by: "user/admin",
    rule: { id: r.id, name: "app-lifecycle" },
  });
  expect(signed!.headers["sluice-message-id"]).toBe(signed!.json.id);

  const chat = await eventually(async () => web.accepted("/slack/T000/B000/XXXX")[0]);
  expect(chat.json.text).toContain("Pipeline app was created");
  expect(chat.json.text).toContain("By: user/admin");
  expect(chat.json.text).toContain(`${DASHBOARD}/pipelines/app`);

  const email = await eventually(async () => smtp.mails[0]);
  expect(email.to).toEqual(["ops@example.com"]);
  expect(email.decoded).toContain("Subject: [Sluice] Pipeline app was created");
  expect(email.decoded).toContain(`href="${DASHBOARD}/pipelines/app"`); // HTML part
  expect(email.decoded).toContain(`\n${DASHBOARD}/pipelines/app`); // plain-text part

  const published = await eventually(async () => natsMessages[0]);
  expect(published.json).toMatchObject({ type: "PIPELINE_CREATED", link: `${DASHBOARD}/pipelines/app` });
  expect(published.id).toBe(published.json.id);

  let last: unknown;
  const log = await eventually(async () => {
    const rows = await deliveries({ ruleId: r.id });
    last = rows;
    return rows.length === 4 && rows.every((d) => d.status === "SUCCEEDED") && rows;
  }).catch((error) => {
    throw new Error(`${error}: ${JSON.stringify(last)}`);
  });
  expect(new Set(log.map((d) => d.targetName))).toEqual(new Set(["ci-hook", "chat", "ops-mail", "bus"]));
  const webhookRow = log.find((d) => d.targetName === "ci-hook");
  expect(webhookRow).toMatchObject({ attempts: 1, lastStatusCode: 200, link: `${DASHBOARD}/pipelines/app` });
  expect(webhookRow.history).toEqual([expect.objectContaining({ attempt: 1, ok: true, statusCode: 200 })]);
  // each receiver got it once, under one id per target
  expect(web.accepted("/hook")).toHaveLength(1);
  expect(smtp.mails).toHaveLength(1);
  expect(natsMessages).toHaveLength(1);

  // Secrets never come back, and `****` keeps them.
  const listed = dataOf(await t.gql(`{ notificationTargets { name url secret headers { value } } }`));
  expect(JSON.stringify(listed)).not.toContain(SECRET);
  expect(JSON.stringify(listed)).not.toContain("platform-token-123");
  expect(JSON.stringify(listed)).not.toContain("XXXX");
  dataOf(
    await t.gql(`mutation ($id: ID!, $target: NotificationTargetInput!) { updateNotificationTarget(id: $id, target: $target) { id } }`, {
      id: hook.id,
      target: { name: "ci-hook", kind: "WEBHOOK", url: web.url("/hook"), secret: "****", headers: [{ name: "X-Team", value: "****" }] },
    }),
  ); // prettier-ignore
  // Left out, the secret is kept too (the dashboard's form leaves an empty secret field out).
  dataOf(
    await t.gql(`mutation ($id: ID!, $target: NotificationTargetInput!) { updateNotificationTarget(id: $id, target: $target) { id secret } }`, {
      id: hook.id,
      target: { name: "ci-hook", kind: "WEBHOOK", url: web.url("/hook"), headers: [{ name: "X-Team", value: "****" }] },
    }),
  ); // prettier-ignore
  const audit = dataOf(
    await t.gql(`{ auditEvents(operation: "createNotificationTarget", first: 10) { nodes { arguments } } }`),
  );
  expect(JSON.stringify(audit)).not.toContain(SECRET);
  expect(JSON.stringify(audit)).not.toContain("platform-token-123");

  // A test notification and a redelivery reach the receiver signed with the kept secret.
  const tested = dataOf(
    await t.gql(`mutation ($id: ID!) { testNotificationRule(id: $id) { id eventType targetName } }`, {
      id: r.id,
    }),
  ).testNotificationRule;
  expect(tested).toHaveLength(4);
  const testId = tested.find((d: any) => d.targetName === "ci-hook").id;
  await eventually(async () =>
    web.accepted("/hook").some((x) => x.json.id === testId && x.json.test === true),
  );
  dataOf(await t.gql(`mutation ($id: ID!) { redeliverNotification(id: $id) { id status } }`, { id: testId }));
  await eventually(async () => web.accepted("/hook").filter((x) => x.json.id === testId).length === 2);
  expect(web.received.filter((x) => x.path === "/hook").every((x) => x.signatureValid)).toBe(true);
});

it("retries a failing receiver with backoff and delivers exactly once more when it recovers", async () => {
  web.failNext("/flaky", 2);
  const flaky = await target({ name: "flaky", kind: "WEBHOOK", url: web.url("/flaky") });
  const r = await rule({
    name: "transitions",
    pipelineName: "app",
    eventTypes: ["TRANSITION_DISABLED"],
    targetIds: [flaky.id],
  });
  const seen: any[] = [];
  const client = createClient({
    url: t.url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const subscribed = new Promise<void>((resolve) => {
    client.on("connected", () => resolve());
  });
  const unsubscribe = client.subscribe(
    { query: `subscription ($ruleId: ID) { notificationDeliveryEvents(ruleId: $ruleId) { id status attempts } }`, variables: { ruleId: r.id } },
    { next: (v: any) => seen.push(v.data.notificationDeliveryEvents), error: () => {}, complete: () => {} },
  ); // prettier-ignore
  await subscribed;
  await eventually(
    async () => {
      // the subscription is registered once a test delivery it sees arrives
      return (
        seen.length > 0 ||
        (await t.gql(`mutation ($id: ID!) { testNotificationRule(id: $id) { id } }`, { id: r.id }), false)
      );
    },
    10_000,
    "the subscription to see a delivery",
  );
  await eventually(
    async () => web.accepted("/flaky").length === 1,
    10_000,
    "the test message after two failures",
  );

  dataOf(
    await t.gql(
      `mutation { toggleTransition(pipelineName: "app", stageName: "Build", enabled: false, reason: "freeze") { enabled } }`,
    ),
  );
  const [done] = await eventually(async () => {
    const rows = await deliveries({ ruleId: r.id, status: "SUCCEEDED" });
    return (
      rows.some((d) => d.eventType === "TRANSITION_DISABLED") &&
      rows.filter((d) => d.eventType === "TRANSITION_DISABLED")
    );
  });
  const accepted = web.accepted("/flaky").filter((x) => x.json.type === "TRANSITION_DISABLED");
  expect(accepted).toHaveLength(1);
  expect(accepted[0]!.json.message).toBe("Pipeline app: the transition into stage Build is disabled");
  expect(done.link).toBe(`${DASHBOARD}/pipelines/app`);
  // the first (test) message took the two failures: attempts 500, 500, 200
  const first = (await deliveries({ ruleId: r.id })).find((d) => d.eventType === "TEST");
  expect(first.history.map((h: any) => h.statusCode)).toEqual([500, 500, 200]);
  expect(first.history[0].error).toContain("HTTP 500");
  await eventually(async () => seen.some((d) => d.status === "SUCCEEDED" && d.attempts === 3));
  unsubscribe();
  await client.dispose();
});

it("opens a target's circuit after repeated failures, shows it on the rule, and closes it when the target is fixed", async () => {
  web.failNext("/down", 1000);
  const down = await target({ name: "down", kind: "WEBHOOK", url: web.url("/down") });
  const r = await rule({ name: "down-rule", eventTypes: ["PIPELINE_DELETED"], targetIds: [down.id] });
  const [sent] = dataOf(
    await t.gql(`mutation ($id: ID!) { testNotificationRule(id: $id) { id } }`, { id: r.id }),
  ).testNotificationRule;
  const CIRCUIT = `query ($id: ID!) { notificationRule(id: $id) { circuitOpen
    targets { name circuit { open consecutiveFailures openUntil lastError } } } }`;
  const state = await eventually(async () => {
    const rule = dataOf(await t.gql(CIRCUIT, { id: r.id })).notificationRule;
    return rule.circuitOpen && rule;
  });
  expect(state.targets[0].circuit).toMatchObject({ open: true, consecutiveFailures: 3 });
  expect(state.targets[0].circuit.lastError).toContain("HTTP 500");
  // While it is open the delivery waits: three attempts, still pending.
  const [waiting] = await deliveries({ targetId: down.id });
  expect(waiting).toMatchObject({ id: sent.id, status: "PENDING", attempts: 3 });
  expect(web.received.filter((x) => x.path === "/down")).toHaveLength(3);

  // Fixed (here: the receiver; in life, often the URL): updating the target closes the circuit.
  web.failNext("/down", 0);
  dataOf(
    await t.gql(`mutation ($id: ID!, $target: NotificationTargetInput!) { updateNotificationTarget(id: $id, target: $target) { circuit { open } } }`, {
      id: down.id,
      target: { name: "down", kind: "WEBHOOK", url: web.url("/down") },
    }),
  ); // prettier-ignore
  await eventually(async () => (await deliveries({ targetId: down.id }))[0].status === "SUCCEEDED");
  expect(web.accepted("/down").map((x) => x.json.id)).toEqual([sent.id]);
  expect(dataOf(await t.gql(CIRCUIT, { id: r.id })).notificationRule.circuitOpen).toBe(false);
});

it("sends at most SLUICE_NOTIFY_CONCURRENCY_PER_TARGET messages to one target at once", async () => {
  web.slow("/slow", 150);
  const slow = await target({ name: "slow", kind: "WEBHOOK", url: web.url("/slow") });
  const r = await rule({ name: "slow-rule", eventTypes: ["PIPELINE_DELETED"], targetIds: [slow.id] });
  for (let i = 0; i < 8; i++) {
    dataOf(await t.gql(`mutation ($id: ID!) { testNotificationRule(id: $id) { id } }`, { id: r.id }));
  }
  await eventually(async () => {
    const rows = await deliveries({ targetId: slow.id, status: "SUCCEEDED" });
    return rows.length === 8;
  });
  expect(web.accepted("/slow")).toHaveLength(8);
  expect(web.mostOpen("/slow")).toBe(2);
});
