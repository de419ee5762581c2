/**
 * Pushes from Git hosts start executions: GitHub-style HMAC signatures and GitLab tokens, branch
 * matching, redeliveries that start nothing new, and the refusals.
 */
import crypto from "node:crypto";
import { CREATE, shellBuild, sourceThen } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { GIT, SHELL, TestWorker } from "../support/worker";

let t: TestServer;
let worker: TestWorker;
let url: string;
let secret: string;
beforeAll(async () => {
  t = await startTestServer({ env: { SLUICE_PUBLIC_URL: "https://sluice.example.com/" } });
  worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], () => ({ outcome: "Succeeded" }));
  dataOf(
    await t.gql(CREATE, {
      input: sourceThen("hooked", { name: "Build", actions: [shellBuild("Make", "make")] }),
    }),
  );
  ({ url, secret } = dataOf(
    await t.gql(`mutation { createPipelineWebhook(pipelineName: "hooked") { url secret } }`),
  ).createPipelineWebhook);
});
afterAll(async () => {
  await worker.stop();
  await t.stop();
});

const local = () => `${t.url.replace(/\/graphql$/, "")}/webhooks/hooked`;
const sign = (body: string, key = secret) =>
  `sha256=${crypto.createHmac("sha256", key).update(body).digest("hex")}`;

function githubPush(branch: string, after: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    ref: `refs/heads/${branch}`,
    after,
    repository: { clone_url: "https://git.example/org/app.git", html_url: "https://git.example/org/app" },
    head_commit: {
      id: after,
      message: "Fix the login form\n\nLonger text",
      url: `https://git.example/org/app/commit/${after}`,
    },
    commits: [{ id: after, added: ["src/login.ts"], modified: [], removed: [] }],
    pusher: { name: "ada" },
    ...extra,
  });
}

async function post(body: string, headers: Record<string, string>) {
  const response = await fetch(local(), {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: response.status, json: (await response.json()) as any };
}

async function execution(id: string) {
  return dataOf(
    await t.gql(
      `query ($id: ID!) { pipelineExecution(id: $id) { id trigger { triggerType triggerDetail }
         sourceRevisions { actionName revisionId revisionSummary revisionUrl } } }`,
      { id },
    ),
  ).pipelineExecution;
}

it("gives the webhook's URL under the public address, and its secret once", async () => {
  expect(url).toBe("https://sluice.example.com/webhooks/hooked");
  expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  const { pipeline } = dataOf(await t.gql(`{ pipeline(name: "hooked") { webhook { url createdBy } } }`));
  expect(pipeline.webhook).toEqual({ url, createdBy: "user/admin" });
});

it("starts an execution for a signed GitHub push to the source's branch, once per delivery", async () => {
  const sha = "4f2a9c1e7b3d5a8f0e6c2b1d9a7f3e5c8b0d4a6e";
  const body = githubPush("main", sha);
  const headers = { "x-github-event": "push", "x-github-delivery": "d-1", "x-hub-signature-256": sign(body) };
  const first = await post(body, headers);
  expect(first.status).toBe(201);
  const again = await post(body, headers);
  expect(again.json.started).toEqual(first.json.started);
  const started = await execution(first.json.started[0]);
  expect(started.trigger).toEqual({ triggerType: "Webhook", triggerDetail: "push to branch main by ada" });
  expect(started.sourceRevisions).toEqual([
    {
      actionName: "Checkout",
      revisionId: sha,
      revisionSummary: "Fix the login form",
      revisionUrl: `https://git.example/org/app/commit/${sha}`,
    },
  ]);
  await worker.waitFor((jobs) =>
    jobs.some((j) => j.executionId === started.id && j.sourceRevision?.revisionId === sha),
  );
});

async function executionIds(): Promise<string[]> {
  const { pipeline } = dataOf(
    await t.gql(`{ pipeline(name: "hooked") { executions(first: 100) { nodes { id } } } }`),
  );
  return pipeline.executions.nodes.map((n: { id: string }) => n.id);
}

it("refuses a captured push sent again under a new or no delivery id: 409, nothing starts", async () => {
  const body = githubPush("main", "9".repeat(40));
  const headers = { "x-github-event": "push", "x-github-delivery": "r-1", "x-hub-signature-256": sign(body) };
  const first = await post(body, headers);
  expect(first.status).toBe(201);
  const before = await executionIds();

  for (const delivery of ["r-2", "r-3", undefined]) {
    const replayed = { ...headers, "x-github-delivery": delivery } as Record<string, string>;
    if (delivery === undefined) delete replayed["x-github-delivery"];
    const answer = await post(body, replayed);
    expect(answer).toEqual({
      status: 409,
      json: {
        errors: [{ message: expect.stringContaining("replay"), extensions: { code: "REPLAYED_DELIVERY" } }],
      },
    });
  }
  // The host's own redelivery (same delivery id) still answers with the execution it started.
  const redelivered = await post(body, headers);
  expect(redelivered.status).toBe(201);
  expect(redelivered.json.started).toEqual(first.json.started);
  expect(await executionIds()).toEqual(before);
});

it("refuses a Sluice-signed push whose signed timestamp is stale, and one whose timestamp was changed", async () => {
  const stamped = (body: string, timestamp: string, key = secret) =>
    `sha256=${crypto.createHmac("sha256", key).update(`${timestamp}.${body}`).digest("hex")}`;
  const body = JSON.stringify({ ref: "refs/heads/main", after: "8".repeat(40) });
  const old = String(Math.floor(Date.now() / 1000) - 3600);
  const stale = await post(body, { "x-sluice-timestamp": old, "x-sluice-signature": stamped(body, old) });
  expect(stale).toEqual({
    status: 409,
    json: {
      errors: [
        { message: expect.stringContaining("X-Sluice-Timestamp"), extensions: { code: "STALE_DELIVERY" } },
      ],
    },
  });
  const now = String(Math.floor(Date.now() / 1000));
  // The old signature with a fresh timestamp: the timestamp is signed, so this does not verify.
  expect(
    (await post(body, { "x-sluice-timestamp": now, "x-sluice-signature": stamped(body, old) })).status,
  ).toBe(401);
  const before = await executionIds();
  const fresh = await post(body, { "x-sluice-timestamp": now, "x-sluice-signature": stamped(body, now) });
  expect(fresh.status).toBe(201);
  expect(await executionIds()).toEqual([fresh.json.started[0], ...before]);
});

it("accepts GitLab's token, ignores other branches, deletions and pings, and refuses bad signatures", async () => {
  const gitlab = JSON.stringify({
    object_kind: "push",
    ref: "refs/heads/main",
    checkout_sha: "b".repeat(40),
    project: { git_http_url: "https://git.example/org/app.git" },
    commits: [
      {
        id: "b".repeat(40),
        message: "From GitLab",
        url: "https://git.example/c/b",
        added: [],
        modified: ["x"],
        removed: [],
      },
    ],
    user_name: "grace",
  });
  const viaGitlab = await post(gitlab, { "x-gitlab-event": "Push Hook", "x-gitlab-token": secret });
  expect(viaGitlab.status).toBe(201);
  expect((await execution(viaGitlab.json.started[0])).trigger.triggerDetail).toBe(
    "push to branch main by grace",
  );

  const other = githubPush("feature", "c".repeat(40));
  expect(
    (await post(other, { "x-github-event": "push", "x-hub-signature-256": sign(other) })).json,
  ).toMatchObject({
    started: [],
    ignored: expect.stringContaining("feature"),
  });
  const deleted = githubPush("main", "0".repeat(40), { deleted: true });
  expect(
    (await post(deleted, { "x-github-event": "push", "x-hub-signature-256": sign(deleted) })).status,
  ).toBe(202);
  const ping = JSON.stringify({ zen: "hello" });
  expect(await post(ping, { "x-github-event": "ping", "x-hub-signature-256": sign(ping) })).toEqual({
    status: 200,
    json: { ok: true, message: "pong" },
  });

  const body = githubPush("main", "d".repeat(40));
  expect((await post(body, { "x-hub-signature-256": sign(body, "wrong") })).status).toBe(401);
  expect((await post(body, { "x-gitlab-token": "wrong" })).status).toBe(401);
  expect((await post(body, {})).status).toBe(401);
  const missing = await fetch(local().replace(/hooked$/, "nope"), { method: "POST", body });
  expect(missing.status).toBe(404);
});

it("replaces the secret when created again, and refuses everything once deleted", async () => {
  const old = secret;
  const { createPipelineWebhook } = dataOf(
    await t.gql(`mutation { createPipelineWebhook(pipelineName: "hooked") { secret } }`),
  );
  const body = githubPush("main", "e".repeat(40));
  expect((await post(body, { "x-hub-signature-256": sign(body, old) })).status).toBe(401);
  expect((await post(body, { "x-hub-signature-256": sign(body, createPipelineWebhook.secret) })).status).toBe(
    201,
  );
  dataOf(await t.gql(`mutation { deletePipelineWebhook(pipelineName: "hooked") }`));
  expect((await post(body, { "x-hub-signature-256": sign(body, createPipelineWebhook.secret) })).status).toBe(
    404,
  );
});
