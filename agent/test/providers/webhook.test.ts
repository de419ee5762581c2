import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createWebhookProvider } from "../../src/providers/webhook";
import { removeDir } from "../artifacts/tree";
import { makeContext, makeJob, tempBase } from "./context";

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let base: string;
let server: http.Server;
let port: number;
const received: Received[] = [];
/** What the next request gets; a handler that never answers simulates a hung endpoint. */
let respond: (res: http.ServerResponse) => void = (res) => res.writeHead(204).end();
const hung: http.ServerResponse[] = [];

beforeAll(async () => {
  base = await tempBase("webhook");
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        method: req.method!,
        url: req.url!,
        headers: req.headers,
        body: Buffer.concat(chunks),
      });
      respond(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const res of hung) res.destroy();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await removeDir(base);
});

beforeEach(() => {
  received.length = 0;
  respond = (res) => res.writeHead(204).end();
});

const provider = createWebhookProvider();

function invokeJob(configuration: Record<string, string>) {
  return makeJob({
    stageName: "Notify",
    actionName: "CallHook",
    actionTypeId: { category: "Invoke", owner: "Sluice", provider: "Webhook", version: "1" },
    configuration,
    sourceRevision: { actionName: "Checkout", revisionId: "4f2a9c1e", revisionSummary: "Fix login" },
    context: { pipelineExecutionId: "exec-42", variables: { Env: "staging" } },
  });
}

describe("Webhook provider", () => {
  it("posts the job's context, signed over the exact body, and succeeds on 2xx", async () => {
    const url = `http://127.0.0.1:${port}/hooks/deploy`;
    const { context, log } = await makeContext(
      base,
      invokeJob({ Url: url, Secret: "shh-its-a-secret", Headers: '{"X-Team":"team-token-789"}' }),
    );
    const result = await provider.run(context);
    expect(result).toEqual({
      outcome: "Succeeded",
      summary: `POST ${url} answered 204`,
      outputVariables: { StatusCode: "204" },
    });
    expect(received).toHaveLength(1);
    const request = received[0]!;
    expect(request.method).toBe("POST");
    expect(request.url).toBe("/hooks/deploy");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["x-team"]).toBe("team-token-789");
    expect(request.headers["x-sluice-delivery"]).toBe("job-7:2");
    const expected = createHmac("sha256", "shh-its-a-secret").update(request.body).digest("hex");
    expect(request.headers["x-sluice-signature"]).toBe(`sha256=${expected}`);
    expect(JSON.parse(request.body.toString("utf8"))).toEqual({
      pipelineName: "web.app@v2",
      stageName: "Notify",
      actionName: "CallHook",
      executionId: "exec-42",
      jobId: "job-7",
      attempt: 2,
      sourceRevision: { actionName: "Checkout", revisionId: "4f2a9c1e", revisionSummary: "Fix login" },
      variables: { Env: "staging" },
    });
    expect(log.text()).not.toContain("shh-its-a-secret");
    expect(log.text()).not.toContain("team-token-789");
  });

  it("sends no signature without a Secret, and honours Method", async () => {
    const { context } = await makeContext(
      base,
      invokeJob({ Url: `http://127.0.0.1:${port}/x?token=abc`, Method: "put" }),
    );
    respond = (res) => res.writeHead(200).end("ok");
    const result = await provider.run(context);
    expect(result.summary).toBe(`PUT http://127.0.0.1:${port}/x?… answered 200`);
    expect(received[0]!.method).toBe("PUT");
    expect(received[0]!.url).toBe("/x?token=abc");
    expect(received[0]!.headers["x-sluice-signature"]).toBeUndefined();
  });

  it("fails with JobFailed on a non-2xx answer, with the start of the body", async () => {
    respond = (res) =>
      res.writeHead(500, { "content-type": "text/plain" }).end("E".repeat(400) + "F".repeat(600));
    const url = `http://127.0.0.1:${port}/broken`;
    const { context } = await makeContext(base, invokeJob({ Url: url }));
    const result = await provider.run(context);
    expect(result).toMatchObject({
      outcome: "Failed",
      failureType: "JobFailed",
      summary: `POST ${url} answered 500`,
      outputVariables: { StatusCode: "500" },
    });
    expect(result.errorDetails).toEqual({
      code: "HttpStatus500",
      message: `HTTP 500 Internal Server Error: ${"E".repeat(400)}${"F".repeat(100)}`,
    });
  });

  it("reports a refused connection as SystemUnavailable", async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { context } = await makeContext(base, invokeJob({ Url: `http://127.0.0.1:${closedPort}/` }));
    const result = await provider.run(context);
    expect(result).toMatchObject({ outcome: "Failed", failureType: "SystemUnavailable" });
    expect(result.summary).toContain("ECONNREFUSED");
  });

  it("gives up on an endpoint that does not answer in time", async () => {
    respond = (res) => hung.push(res);
    const quick = createWebhookProvider({ timeoutMs: 300 });
    const { context } = await makeContext(base, invokeJob({ Url: `http://127.0.0.1:${port}/slow` }));
    const result = await quick.run(context);
    expect(result).toMatchObject({ outcome: "Failed", failureType: "SystemUnavailable" });
    expect(result.summary).toMatch(/did not answer within 0.3 s/);
  });

  it("stops promptly when the job is aborted", async () => {
    respond = (res) => hung.push(res);
    const { context, abort } = await makeContext(base, invokeJob({ Url: `http://127.0.0.1:${port}/hang` }));
    const running = provider.run(context);
    while (received.length === 0) await new Promise((r) => setTimeout(r, 10));
    const abortedAt = Date.now();
    abort({ kind: "Cancelled", message: "Cancelled: Abandoned" });
    const result = await running;
    expect(result.summary).toBe("Cancelled: Abandoned");
    expect(Date.now() - abortedAt).toBeLessThan(1000);
  });

  it.each([
    [{}, /Url is required/],
    [{ Url: "not a url" }, /Url is not a valid URL/],
    [{ Url: "ftp://host/file" }, /Url must be http or https, not ftp/],
    [{ Url: "http://127.0.0.1/", Method: "TRACE" }, /Method "TRACE" is not one of/],
    [{ Url: "http://127.0.0.1/", Headers: "[1,2]" }, /Headers must be a JSON object of strings/],
    [{ Url: "http://127.0.0.1/", Headers: '{"X-Bad":"line\\nbreak-secret"}' }, /not valid in an HTTP header/],
  ])("refuses configuration %j", async (configuration, message) => {
    const { context } = await makeContext(base, invokeJob(configuration as Record<string, string>));
    const result = await provider.run(context);
    expect(result).toMatchObject({ outcome: "Failed", failureType: "ConfigurationError" });
    expect(result.summary).toMatch(message);
    expect(result.summary).not.toContain("break-secret");
    expect(received).toHaveLength(0);
  });
});
