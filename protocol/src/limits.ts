/**
 * Sizes, counts and timings of the protocol (PROTOCOL.md). Limits the schemas enforce are checked
 * by both sides; the ones marked "agent" are the agent's duty because JetStream cannot enforce them.
 */

const KiB = 1024;
const MiB = 1024 * KiB;

export const LIMITS = {
  /** Input or output artifacts of one action. */
  artifactsPerAction: 5,
  /** Keys in a job's resolved configuration, and their length. */
  configurationKeys: 50,
  configurationKeyLength: 50,
  /** Pipeline variables of an execution, and the length of a value. */
  pipelineVariables: 50,
  variableValueLength: 1000,
  /** `timeoutInMinutes`: at most 7 days. */
  timeoutInMinutes: 7 * 24 * 60,
  /** `heartbeatIntervalSeconds` in jobs and registration replies. */
  heartbeatIntervalSeconds: 300,
  /** `leaseSeconds` in jobs; it is also at least twice the heartbeat interval. */
  leaseSeconds: 3600,
  revisionIdLength: 1500,
  /** CompleteMessage.summary, and a revision summary. */
  summaryLength: 2048,
  errorMessageLength: 5000,
  errorCodeLength: 100,
  urlLength: 2048,
  /** Output variables of one action: names and values together, UTF-8 bytes (120 KiB). */
  outputVariablesBytes: 120 * KiB,
  /** LogChunkMessage.text, in characters (at most 48 KiB of UTF-8). */
  logChunkLength: 16_384,
  /** agent: log text one attempt may publish before it is truncated (the default; agents may lower it). */
  logBytesPerAttempt: 50 * MiB,
  agentVersionLength: 64,
  tokenMinLength: 8,
  tokenMaxLength: 512,
  labels: 32,
  labelValueLength: 255,
  providersPerAgent: 100,
  agentCapacity: 256,
  /** AgentHeartbeat.running. */
  runningJobsPerAgent: 256,
  cancelReasonLength: 512,
  statusLength: 32,
  /** Who made a change (PipelineEvent.by). */
  principalLength: 200,
} as const;

/** Largest encoded message of each kind, in bytes; each fits its stream's max_msg_size. */
export const MAX_MESSAGE_BYTES = {
  job: 1 * MiB,
  accept: 4 * KiB,
  heartbeat: 1 * KiB,
  logChunk: 64 * KiB,
  complete: 256 * KiB,
  cancel: 4 * KiB,
  registerRequest: 64 * KiB,
  registerReply: 4 * KiB,
  agentHeartbeat: 64 * KiB,
  agentHeartbeatReply: 4 * KiB,
  secretsRequest: 4 * KiB,
  secretsReply: 2 * MiB,
  pipelineEvent: 16 * KiB,
} as const;

/** Timings the protocol fixes (the server chooses heartbeat intervals and leases per job). */
export const TIMINGS = {
  /** What servers send unless configured otherwise. */
  defaultHeartbeatIntervalSeconds: 5,
  defaultLeaseSeconds: 15,
  /** An agent waits this long for a registration reply before it retries. */
  registerTimeoutMs: 5000,
  /** `-NAK` delay for a job of a newer protocol version. */
  newerVersionNakDelayMs: 30_000,
  /** Between SIGTERM and SIGKILL when a job is cancelled. */
  cancelGraceSeconds: 1,
  /** agent: publish buffered log output this long after its first unsent line at the latest. */
  logFlushMs: 200,
  /** An agent that missed this many heartbeat intervals is shown offline. */
  agentOfflineAfterIntervals: 3,
} as const;
