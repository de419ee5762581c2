import {
  FAILURE_CAUSES,
  FAILURE_TYPES,
  LIMITS,
  decode,
  encode,
  formatIssuePath,
  messageSchemas,
  type MessageKind,
} from "../src";
import { EXECUTION_ID, SHA, SHELL, valid, variant } from "./fixtures";

function issuesOf(kind: MessageKind, message: unknown) {
  const result = messageSchemas[kind].safeParse(message);
  return result.success
    ? []
    : result.error.issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message }));
}

describe("every schema accepts its valid message", () => {
  it.each(Object.keys(valid) as MessageKind[])("%s", (kind) => {
    expect(issuesOf(kind, valid[kind])).toEqual([]);
  });
});

type BadCase = [description: string, kind: MessageKind, change: (m: any) => void, path: string];

const big = (n: number) => "x".repeat(n);

// Each row breaks one rule and names the path the rejection must point at.
const badCases: BadCase[] = [
  // JobMessage
  ["job without protocolVersion", "job", (m) => delete m.protocolVersion, "protocolVersion"],
  ["job with a fractional attempt", "job", (m) => (m.attempt = 1.5), "attempt"],
  ["job with attempt 0", "job", (m) => (m.attempt = 0), "attempt"],
  ["job id with a dot", "job", (m) => (m.jobId = "a.b"), "jobId"],
  ["job id longer than 64", "job", (m) => (m.jobId = big(65)), "jobId"],
  ["pipeline name with a space", "job", (m) => (m.pipelineName = "web app"), "pipelineName"],
  ["stage name too long", "job", (m) => (m.stageName = big(101)), "stageName"],
  ["unknown category", "job", (m) => (m.actionTypeId.category = "Compile"), "actionTypeId.category"],
  ["unknown owner", "job", (m) => (m.actionTypeId.owner = "AWS"), "actionTypeId.owner"],
  ["provider with a dot", "job", (m) => (m.actionTypeId.provider = "Sh.ell"), "actionTypeId.provider"],
  ["version of 10 characters", "job", (m) => (m.actionTypeId.version = big(10)), "actionTypeId.version"],
  [
    "configuration value not a string",
    "job",
    (m) => (m.configuration.Commands = 7),
    "configuration.Commands",
  ],
  ["configuration key too long", "job", (m) => (m.configuration[big(51)] = "v"), `configuration.${big(51)}`],
  [
    "too many configuration keys",
    "job",
    (m) => (m.configuration = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`K${i}`, "v"]))),
    "configuration",
  ],
  [
    "input artifact with an upper-case sha256",
    "job",
    (m) => (m.inputArtifacts[0].sha256 = SHA.toUpperCase()),
    "inputArtifacts[0].sha256",
  ],
  [
    "input artifact with a negative size",
    "job",
    (m) => (m.inputArtifacts[0].size = -1),
    "inputArtifacts[0].size",
  ],
  [
    "object key that climbs out",
    "job",
    (m) => (m.inputArtifacts[0].objectKey = "../etc/passwd"),
    "inputArtifacts[0].objectKey",
  ],
  [
    "the same input artifact twice",
    "job",
    (m) => m.inputArtifacts.push({ ...m.inputArtifacts[0] }),
    "inputArtifacts[1].name",
  ],
  [
    "six output artifacts",
    "job",
    (m) => (m.outputArtifacts = Array.from({ length: 6 }, (_, i) => ({ name: `Out${i}` }))),
    "outputArtifacts",
  ],
  [
    "output artifact name with a dot",
    "job",
    (m) => (m.outputArtifacts[0].name = "a.b"),
    "outputArtifacts[0].name",
  ],
  [
    "key prefix without a slash",
    "job",
    (m) => (m.outputArtifactKeyPrefix = EXECUTION_ID),
    "outputArtifactKeyPrefix",
  ],
  ["pool with an @", "job", (m) => (m.pool = "eu@west"), "pool"],
  [
    "timeout over 7 days",
    "job",
    (m) => (m.timeoutInMinutes = LIMITS.timeoutInMinutes + 1),
    "timeoutInMinutes",
  ],
  [
    "revision url that is not http",
    "job",
    (m) => (m.sourceRevision.revisionUrl = "ftp://x/y"),
    "sourceRevision.revisionUrl",
  ],
  [
    "context for another execution",
    "job",
    (m) => (m.context.pipelineExecutionId = "other"),
    "context.pipelineExecutionId",
  ],
  ["variable value too long", "job", (m) => (m.context.variables.Env = big(1001)), "context.variables.Env"],
  ["dispatchedAt that is not a time", "job", (m) => (m.dispatchedAt = "yesterday"), "dispatchedAt"],
  ["lease shorter than two heartbeats", "job", (m) => (m.leaseSeconds = 15), "leaseSeconds"],
  ["heartbeat interval of 0", "job", (m) => (m.heartbeatIntervalSeconds = 0), "heartbeatIntervalSeconds"],
  // AcceptMessage
  ["accept without agent", "accept", (m) => delete m.agent, "agent"],
  ["accept with agent name containing a space", "accept", (m) => (m.agent.name = "build host"), "agent.name"],
  ["accept with an empty agent version", "accept", (m) => (m.agent.version = ""), "agent.version"],
  ["accept with a date but no time", "accept", (m) => (m.startedAt = "2025-01-31"), "startedAt"],
  // HeartbeatMessage
  ["heartbeat without agentId", "heartbeat", (m) => delete m.agentId, "agentId"],
  ["heartbeat with attempt as a string", "heartbeat", (m) => (m.attempt = "1"), "attempt"],
  // LogChunkMessage
  ["log chunk with sequence 0", "logChunk", (m) => (m.sequence = 0), "sequence"],
  ["log chunk on an unknown stream", "logChunk", (m) => (m.stream = "stdin"), "stream"],
  ["empty log chunk", "logChunk", (m) => (m.text = ""), "text"],
  ["log chunk over 16,384 characters", "logChunk", (m) => (m.text = big(LIMITS.logChunkLength + 1)), "text"],
  // CompleteMessage
  ["complete with an unknown outcome", "complete", (m) => (m.outcome = "Skipped"), "outcome"],
  ["success with a failure type", "complete", (m) => (m.failureType = "JobFailed"), "failureType"],
  ["success with error details", "complete", (m) => (m.errorDetails = { message: "no" }), "errorDetails"],
  ["success with a failure cause", "complete", (m) => (m.failureCause = "ProcessExit"), "failureCause"],
  [
    "failure with a cause that is not one of FAILURE_CAUSES",
    "complete",
    (m) => Object.assign(m, { outcome: "Failed", failureCause: "Gremlins" }),
    "failureCause",
  ],
  [
    "failure with an unknown failure type",
    "complete",
    (m) => Object.assign(m, { outcome: "Failed", failureType: "Oops" }),
    "failureType",
  ],
  [
    "failure with empty error details",
    "complete",
    (m) => Object.assign(m, { outcome: "Failed", errorDetails: { message: "" } }),
    "errorDetails.message",
  ],
  [
    "summary over 2,048 characters",
    "complete",
    (m) => (m.summary = big(LIMITS.summaryLength + 1)),
    "summary",
  ],
  ["externalUrl that is not a URL", "complete", (m) => (m.externalUrl = "not a url"), "externalUrl"],
  [
    "output variable name with a dot",
    "complete",
    (m) => (m.outputVariables["a.b"] = "v"),
    'outputVariables["a.b"]',
  ],
  [
    "output variables over 120 KiB",
    "complete",
    (m) => (m.outputVariables = { A: big(60 * 1024), B: big(60 * 1024) }),
    "outputVariables",
  ],
  [
    "output artifact without sha256",
    "complete",
    (m) => delete m.outputArtifacts[0].sha256,
    "outputArtifacts[0].sha256",
  ],
  ["negative test count", "complete", (m) => (m.testReport.failed = -1), "testReport.failed"],
  ["complete without finishedAt", "complete", (m) => delete m.finishedAt, "finishedAt"],
  // CancelMessage
  ["cancel without reason", "cancel", (m) => delete m.reason, "reason"],
  ["cancel with a reason over 512 characters", "cancel", (m) => (m.reason = big(513)), "reason"],
  // RegisterRequest / RegisterReply
  ["token shorter than 8", "registerRequest", (m) => (m.token = "short"), "token"],
  ["no providers", "registerRequest", (m) => (m.providers = []), "providers"],
  ["the same provider twice", "registerRequest", (m) => m.providers.push({ ...SHELL }), "providers[1]"],
  ["label key with a space", "registerRequest", (m) => (m.labels["my os"] = "x"), 'labels["my os"]'],
  ["capacity 0", "registerRequest", (m) => (m.capacity = 0), "capacity"],
  ["reply without ok", "registerReply", (m) => delete m.ok, "ok"],
  ["accepted reply without agentId", "registerReply", (m) => delete m.agentId, "agentId"],
  [
    "refused reply without error",
    "registerReply",
    (m) => (
      Object.keys(m).forEach((k) => delete m[k]),
      Object.assign(m, { ok: false, protocolVersion: 1, code: "X" })
    ),
    "error",
  ],
  // AgentHeartbeat
  ["running job without attempt", "agentHeartbeat", (m) => delete m.running[0].attempt, "running[0].attempt"],
  ["running is not a list", "agentHeartbeat", (m) => (m.running = {}), "running"],
  // PipelineEvent
  ["action event without actionName", "pipelineEvent", (m) => delete m.actionName, "actionName"],
  [
    "stage event without stageName",
    "pipelineEvent",
    (m) => ((m.type = "STAGE_FAILED"), delete m.stageName),
    "stageName",
  ],
  ["event with sequence 0", "pipelineEvent", (m) => (m.sequence = 0), "sequence"],
  ["event with a lowercase type", "pipelineEvent", (m) => (m.type = "action_failed"), "type"],
  ["execution event without a sequence", "pipelineEvent", (m) => (m.sequence = null), "sequence"],
];

describe("every schema rejects a bad message at the offending path", () => {
  it.each(badCases)("%s", (_description, kind, change, path) => {
    const issues = issuesOf(kind, variant(kind, change));
    expect(issues.map((i) => i.path)).toContain(path);
  });

  it("reports every problem of a message at once", () => {
    const issues = issuesOf(
      "job",
      variant("job", (m) => Object.assign(m, { jobId: "a b", attempt: 0, pool: "a.b" })),
    );
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(["jobId", "attempt", "pool"]));
  });

  it("rejects what is not an object", () => {
    for (const kind of Object.keys(valid) as MessageKind[]) {
      expect(messageSchemas[kind].safeParse([]).success).toBe(false);
      expect(messageSchemas[kind].safeParse(null).success).toBe(false);
    }
  });
});

describe("tolerance and defaults", () => {
  it("ignores unknown fields, so a newer peer may add optional ones", () => {
    const parsed = messageSchemas.heartbeat.parse({ ...valid.heartbeat, cpu: 0.5 });
    expect(parsed).toEqual(valid.heartbeat);
  });

  it("defaults a failure's type to JobFailed", () => {
    const parsed = messageSchemas.complete.parse({ ...valid.complete, outcome: "Failed" });
    expect(parsed.outcome === "Failed" && parsed.failureType).toBe("JobFailed");
  });

  it.each(FAILURE_TYPES)("accepts failure type %s", (failureType) => {
    const parsed = messageSchemas.complete.parse({ ...valid.complete, outcome: "Failed", failureType });
    expect(parsed.outcome === "Failed" && parsed.failureType).toBe(failureType);
  });

  it.each(FAILURE_CAUSES)("carries failure cause %s through encode and decode", (failureCause) => {
    const payload = encode("complete", { ...valid.complete, outcome: "Failed", failureCause });
    const decoded = decode("complete", payload);
    expect(decoded.ok && decoded.message.outcome === "Failed" && decoded.message.failureCause).toBe(
      failureCause,
    );
  });

  it.each([
    ["TimedOut", "TimedOut"],
    ["Fenced", "LeaseLost"],
    ["Shutdown", "AgentShutdown"],
    ["Revoked", "AgentRevoked"],
    ["Cancelled", "Cancelled"],
    ["InvalidJob", "JobRefused"],
    ["OutputArtifactMissing", "ArtifactMissing"],
    ["OutputVariablesTooLarge", "OutputTooLarge"],
    ["ExitStatus2", "ProcessExit"],
    ["SignalSIGKILL", "ProcessExit"],
    ["FetchFailed", "Unknown"],
    [undefined, "Unknown"],
  ])("reads an older agent's failure without a cause by its code %s as %s", (code, cause) => {
    const older = {
      ...valid.complete,
      outcome: "Failed",
      ...(code ? { errorDetails: { message: "it failed", code } } : {}),
    };
    const decoded = decode("complete", new TextEncoder().encode(JSON.stringify(older)));
    expect(decoded.ok && decoded.message.outcome === "Failed" && decoded.message.failureCause).toBe(cause);
  });

  it("keeps the cause an agent sends over the one its code would mean", () => {
    const decoded = decode(
      "complete",
      encode("complete", {
        ...valid.complete,
        outcome: "Failed",
        failureCause: "WorkspaceError",
        errorDetails: { message: "disk full", code: "TimedOut" },
      }),
    );
    expect(decoded.ok && decoded.message.outcome === "Failed" && decoded.message.failureCause).toBe(
      "WorkspaceError",
    );
  });

  it("defaults output variables and artifacts to empty", () => {
    const { outputVariables: _v, outputArtifacts: _a, ...bare } = valid.complete;
    const parsed = messageSchemas.complete.parse(bare);
    expect(parsed.outputVariables).toEqual({});
    expect(parsed.outputArtifacts).toEqual([]);
  });

  it("defaults a registration's pool, labels and capacity", () => {
    const { pool: _p, labels: _l, capacity: _c, ...bare } = valid.registerRequest;
    expect(messageSchemas.registerRequest.parse(bare)).toMatchObject({
      pool: "default",
      labels: {},
      capacity: 1,
    });
  });

  it("accepts a refusal with a code it does not know (the refusal's shape is frozen)", () => {
    const refusal = { ok: false, protocolVersion: 9, code: "SomethingNew", error: "Go away." };
    expect(messageSchemas.registerReply.parse(refusal)).toEqual(refusal);
  });

  it("accepts times with an offset and cancel reasons it does not know", () => {
    expect(
      messageSchemas.heartbeat.safeParse({ ...valid.heartbeat, at: "2025-01-31T10:15:00+01:00" }).success,
    ).toBe(true);
    expect(messageSchemas.cancel.safeParse({ ...valid.cancel, reason: "Maintenance window" }).success).toBe(
      true,
    );
  });

  it("counts output variables in UTF-8 bytes, names included: 120 KiB exactly is allowed", () => {
    const exact = { A: "é".repeat(61_439) + "x" }; // 1 + 2 × 61,439 + 1 = 122,880 bytes
    expect(issuesOf("complete", { ...valid.complete, outputVariables: exact })).toEqual([]);
    const oneMore = { ...exact, B: "" };
    expect(issuesOf("complete", { ...valid.complete, outputVariables: oneMore }).map((i) => i.path)).toEqual([
      "outputVariables",
    ]);
  });

  it("accepts a job with an empty configuration and no artifacts or revision", () => {
    const job = variant("job", (m) => {
      m.configuration = {};
      m.inputArtifacts = [];
      m.outputArtifacts = [];
      delete m.sourceRevision;
    });
    expect(issuesOf("job", job)).toEqual([]);
  });
});
