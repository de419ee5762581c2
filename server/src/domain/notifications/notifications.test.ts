import { notificationTypeOf, type NotifiedEvent } from "./events";
import {
  approverEmailContent,
  dashboardLink,
  emailContent,
  retryDelayMs,
  signature,
  slackBody,
  statusMessage,
  teamsBody,
  webhookBody,
  type Notification,
} from "./messages";
import { ruleIssues, ruleMatches } from "./rules";
import { mergedSettings, targetIssues, visibleSettings } from "./targets";
import { nonPublicRange } from "./addresses";

const event = (extra: Partial<NotifiedEvent> = {}): NotifiedEvent => ({
  pipelineName: "app",
  type: "STAGE_FAILED",
  executionId: "0b7d6c2e-1111-4222-8333-444455556666",
  sequence: 7,
  stageName: "Deploy",
  status: "Failed",
  at: "2026-12-06T20:00:00.000Z",
  ...extra,
});

const notification = (extra: Partial<Notification> = {}): Notification => ({
  id: "d1",
  type: "STAGE_FAILED",
  event: event(),
  execution: {
    status: "Failed",
    statusSummary: "Deploy failed: exit 2",
    triggerType: "Webhook",
    triggerDetail: "push by alice",
    sourceRevisions: [
      {
        actionName: "Checkout",
        revisionId: "9f8e7d6c5b4a39281706",
        revisionSummary: "Fix login\n\nlong",
        revisionUrl: null,
      },
    ],
    branches: ["main"],
  },
  rule: { id: "r1", name: "deploys", detailLevel: "BASIC" },
  ...extra,
});

describe("rules", () => {
  const rule = { pipelineName: "app", eventTypes: ["STAGE_FAILED"], filter: null, enabled: true };

  it("match by type, pipeline, stage and branch; muted rules match nothing", () => {
    expect(ruleMatches(rule, "STAGE_FAILED", event(), { branches: [] })).toBe(true);
    expect(ruleMatches({ ...rule, enabled: false }, "STAGE_FAILED", event(), { branches: [] })).toBe(false);
    expect(ruleMatches(rule, "STAGE_FAILED", event({ pipelineName: "web" }), { branches: [] })).toBe(false);
    expect(ruleMatches({ ...rule, pipelineName: null }, "STAGE_FAILED", event({ pipelineName: "web" }), { branches: [] })).toBe(true);
    const staged = { ...rule, filter: { stageNames: ["Build"] } };
    expect(ruleMatches(staged, "STAGE_FAILED", event(), { branches: [] })).toBe(false);
    expect(ruleMatches(staged, "STAGE_FAILED", event({ stageName: "Build" }), { branches: [] })).toBe(true);
    const branched = { ...rule, filter: { branches: ["main"] } };
    expect(ruleMatches(branched, "STAGE_FAILED", event(), { branches: ["dev"] })).toBe(false);
    expect(ruleMatches(branched, "STAGE_FAILED", event(), { branches: ["main"] })).toBe(true);
  }); // prettier-ignore

  it("a rollback's succeeded stage is STAGE_ROLLED_BACK; intermediate states match no rule", () => {
    expect(notificationTypeOf(event({ type: "STAGE_SUCCEEDED" }), { triggerType: "ManualRollback" })).toBe(
      "STAGE_ROLLED_BACK",
    );
    expect(notificationTypeOf(event({ type: "STAGE_SUCCEEDED" }), { triggerType: "Webhook" })).toBe(
      "STAGE_SUCCEEDED",
    );
    expect(notificationTypeOf(event({ type: "EXECUTION_WAITING" }), null)).toBeNull();
  });

  it("reports each bad field with its path", () => {
    const issues = ruleIssues({
      name: "bad name!",
      pipelineName: null,
      eventTypes: ["STAGE_FAILED", "NOPE"],
      filter: { stageNames: [""] },
      detailLevel: "BASIC",
      enabled: true,
      targetIds: [],
    });
    expect(issues.map((i) => i.path)).toEqual([
      "input.name",
      "input.eventTypes[1]",
      "input.targetIds",
      "input.filter.stageNames[0]",
    ]);
  });
});

describe("targets", () => {
  const rules = { allowHttp: false, allowPrivate: false };

  it("validate URLs, addresses, subjects and headers at their paths", () => {
    const paths = (input: Parameters<typeof targetIssues>[0]) => targetIssues(input, rules).map((i) => i.path);
    expect(paths({ name: "a", kind: "WEBHOOK", url: "http://x.example" })).toEqual(["input.url"]);
    expect(targetIssues({ name: "a", kind: "WEBHOOK", url: "http://x.example" }, { allowHttp: true, allowPrivate: false })).toEqual([]);
    expect(paths({ name: "a", kind: "WEBHOOK", url: "https://u:p@x.example" })).toEqual(["input.url"]);
    expect(paths({ name: "a", kind: "EMAIL", emailAddresses: ["a@b.example", "nope"] })).toEqual(["input.emailAddresses[1]"]);
    expect(paths({ name: "a", kind: "NATS", subject: "team.>" })).toEqual(["input.subject"]);
    expect(paths({ name: "a", kind: "NATS", subject: "team.builds" })).toEqual([]);
    expect(paths({ name: "a", kind: "WEBHOOK", url: "https://x.example", headers: [{ name: "Sluice-Signature", value: "x" }, { name: "X-A", value: "a\r\nb" }] })).toEqual(["input.headers[0].name", "input.headers[1].value"]);
    expect(paths({ name: "a", kind: "SLACK", url: "https://hooks.slack.com/x", secret: "0123456789abcdef" })).toEqual(["input.secret"]);
  }); // prettier-ignore

  it("refuse URLs on this host, the metadata service and private networks unless allowed", () => {
    const urlProblem = (url: string, allowPrivate = false) =>
      targetIssues({ name: "a", kind: "WEBHOOK", url }, { allowHttp: false, allowPrivate })[0]?.message ?? null;
    for (const url of [
      "https://127.0.0.1/hook",
      "https://127.1.2.3:8443/hook",
      "https://localhost/hook",
      "https://api.localhost/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://10.1.2.3/hook",
      "https://172.16.0.9/hook",
      "https://192.168.1.1/hook",
      "https://100.64.0.1/hook",
      "https://0.0.0.0/hook",
      "https://[::1]/hook",
      "https://[fe80::1]/hook",
      "https://[fd00::5]/hook",
      "https://[::ffff:10.0.0.1]/hook",
    ]) {
      expect([url, urlProblem(url)]).toEqual([url, expect.stringMatching(/^must point to a public host: .*SLUICE_NOTIFY_ALLOW_PRIVATE=true/)]);
      expect(urlProblem(url, true)).toBeNull();
    }
    for (const url of ["https://hooks.example.com/x", "https://93.184.216.34/x", "https://[2606:4700::1111]/x"]) {
      expect([url, urlProblem(url)]).toEqual([url, null]);
    }
    expect(nonPublicRange("8.8.8.8")).toBeNull();
    expect(nonPublicRange("::ffff:127.0.0.1")).toBe("loopback");
  }); // prettier-ignore

  it("never show secrets, and keep them when **** comes back", () => {
    const stored = {
      url: "https://hooks.slack.com/services/T0/B0/secret",
      secret: null,
      headers: null,
    };
    expect(visibleSettings("SLACK", stored).url).toBe("https://hooks.slack.com/****");
    const hook = { url: "https://h.example/x", secret: "s".repeat(20), headers: [{ name: "Authorization", value: "Bearer t" }] };
    expect(visibleSettings("WEBHOOK", hook)).toMatchObject({ secret: "****", headers: [{ name: "Authorization", value: "****" }] });
    expect(mergedSettings(hook, { url: "****", secret: "****", headers: [{ name: "authorization", value: "****" }] }, "WEBHOOK")).toMatchObject({
      url: "https://h.example/x",
      secret: "s".repeat(20),
      headers: [{ name: "authorization", value: "Bearer t" }],
    });
    expect(mergedSettings(hook, { url: "https://h.example/y" }, "WEBHOOK").secret).toBe("s".repeat(20));
    expect(mergedSettings(hook, { url: "https://h.example/y", secret: null }, "WEBHOOK").secret).toBeNull();
  }); // prettier-ignore
});

describe("messages", () => {
  it("say what happened and link to the page of it", () => {
    const n = notification();
    expect(statusMessage(n)).toBe("Pipeline app: stage Deploy of execution 0b7d6c2e failed");
    expect(dashboardLink("https://d.example/", n)).toBe("https://d.example/executions/0b7d6c2e-1111-4222-8333-444455556666");
    const action = notification({ type: "ACTION_FAILED", event: event({ type: "ACTION_FAILED", actionName: "Push", actionExecutionId: "a1" }) });
    expect(dashboardLink("https://d.example", action)).toBe("https://d.example/executions/0b7d6c2e-1111-4222-8333-444455556666/actions/a1/logs");
    const approval = notification({ type: "APPROVAL_NEEDED", event: event({ type: "APPROVAL_NEEDED", actionName: "Ok", pipelineName: "a b" }) });
    expect(dashboardLink("https://d.example", approval)).toBe("https://d.example/pipelines/a%20b");
    expect(statusMessage(approval)).toBe("Pipeline a b: approval Ok in stage Deploy of execution 0b7d6c2e needs a manual approval");
  }); // prettier-ignore

  it("an approver's e-mail: the approval's details, escaped, and the link that opens the approval", () => {
    const n = notification({
      type: "APPROVAL_NEEDED",
      event: event({ type: "APPROVAL_NEEDED", actionName: "Ok", actionExecutionId: "a1" }),
      approval: { customData: "<b>look</b>", externalEntityLink: "javascript:alert(1)" },
    });
    const link = dashboardLink("https://d.example", n);
    expect(link).toBe("https://d.example/pipelines/app?approval=a1");
    const mail = approverEmailContent(n, link, "alice");
    expect(mail.subject).toBe("[Sluice] Approval needed: app / Deploy / Ok");
    expect(mail.text).toContain("Note: <b>look</b>");
    expect(mail.text).toContain(`Approve or reject: ${link}`);
    expect(mail.html).toContain("&lt;b&gt;look&lt;/b&gt;");
    expect(mail.html).not.toContain('href="javascript:');
    expect(mail.html).toContain(`<a href="${link}">`);
  });

  it("BASIC leaves out the execution's details, FULL has them", () => {
    const basic = webhookBody(notification(), "L");
    expect(basic).toMatchObject({
      schemaVersion: 1,
      id: "d1",
      type: "STAGE_FAILED",
      link: "L",
      stage: "Deploy",
    });
    expect(basic.execution).toEqual({
      id: "0b7d6c2e-1111-4222-8333-444455556666",
      sequence: 7,
      status: "Failed",
    });
    const full = webhookBody(notification({ rule: { id: "r1", name: "deploys", detailLevel: "FULL" } }), "L");
    expect(full.execution).toMatchObject({ statusSummary: "Deploy failed: exit 2", branches: ["main"] });
  });

  it("chat and e-mail show status, revision, who and the link", () => {
    expect(slackBody(notification(), "https://d.example/x")).toEqual({
      text: [
        "Pipeline app: stage Deploy of execution 0b7d6c2e failed",
        "Revision: 9f8e7d6c5b4a (Fix login)",
        "By: Webhook (push by alice)",
        "https://d.example/x",
      ].join("\n"),
    });
    const card = teamsBody(notification(), "https://d.example/x") as any;
    expect(card.attachments[0].content.actions[0].url).toBe("https://d.example/x");
    const mail = emailContent(notification({ event: event({ stageName: "<b>" }) }), "https://d.example/x");
    expect(mail.subject).toBe("[Sluice] Pipeline app: stage <b> of execution 0b7d6c2e failed");
    expect(mail.html).toContain("stage &lt;b&gt;");
    expect(mail.html).toContain('<a href="https://d.example/x">');
    expect(mail.text).toContain("\nhttps://d.example/x\n");
  });

  it("signs t.body with HMAC-SHA256", () => {
    // echo -n '1700000000.{}' | openssl dgst -sha256 -hmac key
    expect(signature("key", 1_700_000_000, "{}")).toBe(
      "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae",
    );
  });

  it("backs off exponentially with jitter, capped", () => {
    expect(retryDelayMs(1, 1000, 60_000, 0)).toBe(500);
    expect(retryDelayMs(1, 1000, 60_000, 0.999)).toBe(1000);
    expect(retryDelayMs(4, 1000, 60_000, 0)).toBe(4000);
    expect(retryDelayMs(20, 1000, 60_000, 0.5)).toBe(45_000);
  });
});
