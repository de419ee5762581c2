/** On embedded PGlite too, the outbox trigger fills the inbox and a pipeline's event is delivered. */
import { CREATE, simplePipeline } from "../support/documents";
import { selfSignedCertificate, startHttpsReceiver } from "../support/receivers";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

let t: TestServer;
let cert: ReturnType<typeof selfSignedCertificate>;
let web: Awaited<ReturnType<typeof startHttpsReceiver>>;
beforeAll(async () => {
  cert = selfSignedCertificate();
  web = await startHttpsReceiver(cert);
  t = await startTestServer({
    pglite: true,
    env: { SLUICE_NOTIFY_CA_FILE: cert.certFile, SLUICE_NOTIFY_ALLOW_PRIVATE: "true" },
  });
  // A new PGlite runs every migration at its first start: slow on a busy machine.
}, 120_000);
afterAll(async () => {
  await t?.stop();
  await web?.close();
  cert?.cleanup();
});

it("delivers a definition event and a transition event on PGlite", async () => {
  const { createNotificationTarget: target } = dataOf(
    await t.gql(`mutation ($t: NotificationTargetInput!) { createNotificationTarget(target: $t) { id } }`, {
      t: { name: "hook", kind: "WEBHOOK", url: web.url("/pglite") },
    }),
  );
  dataOf(
    await t.gql(`mutation ($r: NotificationRuleInput!) { createNotificationRule(rule: $r) { id } }`, {
      r: { name: "all", eventTypes: ["PIPELINE_CREATED", "TRANSITION_DISABLED"], targetIds: [target.id] },
    }),
  );
  dataOf(await t.gql(CREATE, { input: simplePipeline("lite") }));
  dataOf(
    await t.gql(
      `mutation { toggleTransition(pipelineName: "lite", stageName: "Build", enabled: false, reason: "x") { enabled } }`,
    ),
  );
  await eventually(async () => web.accepted("/pglite").length === 2, 15_000, "two messages");
  expect(web.accepted("/pglite").map((r) => r.json.type)).toEqual([
    "PIPELINE_CREATED",
    "TRANSITION_DISABLED",
  ]);
});
