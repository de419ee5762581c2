/** One valid message of every kind; tests copy and break them. */
import type { MessageInput, MessageKind } from "../src";

export const JOB_ID = "7d1f0c52-0b7e-4a39-9f3e-2c6b1d8e4a10";
export const EXECUTION_ID = "3b9e6a1c-5f2d-4c8b-a7e1-9d0f2b3c4e5a";
export const AGENT_ID = "a7c3e9f1-2b4d-4e6a-8c0f-1d3b5a7c9e2f";
export const SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
export const LEASE = "kq3vX9d2Lh7mR4tB8wZ1nF6yJ0cP5sAe";
export const AT = "2025-01-31T09:15:00.000Z";
export const SHELL = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" } as const;

export const valid: { [K in MessageKind]: MessageInput<K> } = {
  job: {
    protocolVersion: 3,
    jobId: JOB_ID,
    attempt: 1,
    executionId: EXECUTION_ID,
    pipelineName: "web.app@v2",
    stageName: "Build",
    actionName: "Compile",
    actionTypeId: SHELL,
    configuration: { Commands: "npm ci && npm run build" },
    inputArtifacts: [
      { name: "SourceCode", objectKey: `${EXECUTION_ID}/SourceCode`, size: 48213, sha256: SHA },
    ],
    outputArtifacts: [{ name: "BuildOutput" }],
    outputArtifactKeyPrefix: `${EXECUTION_ID}/${JOB_ID}/1/`,
    leaseToken: LEASE,
    pool: "default",
    timeoutInMinutes: 60,
    sourceRevision: {
      actionName: "Checkout",
      revisionId: "4f2a9c1e",
      revisionUrl: "https://git.example/c/4f2a9c1e",
    },
    context: { pipelineExecutionId: EXECUTION_ID, variables: { Env: "staging" } },
    dispatchedAt: AT,
    leaseSeconds: 60,
    heartbeatIntervalSeconds: 10,
  },
  accept: {
    protocolVersion: 3,
    jobId: JOB_ID,
    attempt: 1,
    leaseToken: LEASE,
    agent: { id: AGENT_ID, name: "build-host-1.example.com", version: "0.1.0" },
    startedAt: AT,
  },
  heartbeat: { jobId: JOB_ID, attempt: 1, leaseToken: LEASE, agentId: AGENT_ID, at: AT },
  logChunk: {
    jobId: JOB_ID,
    attempt: 1,
    sequence: 1,
    at: AT,
    stream: "stdout",
    text: "added 312 packages\n",
  },
  complete: {
    jobId: JOB_ID,
    attempt: 1,
    leaseToken: LEASE,
    agentId: AGENT_ID,
    outcome: "Succeeded",
    summary: "built",
    externalUrl: "https://ci.example/builds/418",
    outputVariables: { BuildNumber: "418" },
    outputArtifacts: [
      { name: "BuildOutput", objectKey: `${EXECUTION_ID}/${JOB_ID}/1/BuildOutput`, size: 10, sha256: SHA },
    ],
    testReport: { passed: 3, failed: 0, skipped: 1 },
    lastLogSequence: 12,
    finishedAt: AT,
  },
  cancel: { jobId: JOB_ID, attempt: 1, reason: "Abandoned" },
  registerRequest: {
    protocolVersion: 3,
    token: "sat_4c1d8e2f9a7b3c5d",
    name: "build-host-1.example.com",
    pool: "default",
    labels: { os: "linux" },
    providers: [SHELL],
    version: "0.1.0",
    capacity: 2,
  },
  registerReply: { ok: true, protocolVersion: 3, agentId: AGENT_ID, heartbeatIntervalSeconds: 10 },
  agentHeartbeat: {
    agentId: AGENT_ID,
    at: AT,
    running: [{ jobId: JOB_ID, attempt: 1 }],
    draining: false,
    leaving: false,
  },
  agentHeartbeatReply: { ok: true },
  secretsRequest: { jobId: JOB_ID, attempt: 1, leaseToken: LEASE, agentId: AGENT_ID },
  secretsReply: {
    ok: true,
    sealed: {
      ephemeralPublicKey: "8kUwDUIn_VTKVT7wQfkQ_gma-sozcRHqYaXC73q2U2g",
      iv: "4pzfShOXXipVvaKJ",
      ciphertext: "BvZwZ2H8-7xhZAd0ZhM7e2ibxRyk3aTY_B1ThKGt8u-oiI_vN1N3V5E",
    },
  },
  pipelineEvent: {
    pipelineName: "web.app@v2",
    type: "ACTION_SUCCEEDED",
    executionId: EXECUTION_ID,
    sequence: 7,
    stageName: "Build",
    actionName: "Compile",
    actionExecutionId: JOB_ID,
    status: "Succeeded",
    at: AT,
  },
};

/** A deep copy of a valid message, changed by `change` (which may mutate it). */
export function variant<K extends MessageKind>(kind: K, change: (message: any) => void): unknown {
  const copy = structuredClone(valid[kind]);
  change(copy);
  return copy;
}
