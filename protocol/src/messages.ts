/**
 * Every message of the protocol as a zod schema, field for field as in PROTOCOL.md section 5.
 * Objects strip unknown keys: a newer peer may add optional fields without a version change.
 * Defaults make a field optional on the wire and present in the parsed value.
 */
import { z } from "zod";
import { FAILURE_CAUSES, FAILURE_TYPES, legacyFailureCause } from "./failures";
import { LIMITS } from "./limits";
import { MAX_SERVER_KEYS, isSigningPublicKey } from "./signing";
import {
  ACTION_CATEGORIES,
  ACTION_OWNERS,
  DEFAULT_POOL,
  LOG_STREAMS,
  PATTERNS,
  type Pattern,
} from "./vocabulary";

// ---------------------------------------------------------------------------------------------
// Building blocks

function matching(pattern: Pattern) {
  return z.string().regex(pattern.regex, { error: `must be ${pattern.rule}` });
}

function text(max: number, min = 1) {
  return z.string().min(min).max(max);
}

/** A string → string object with at most `maxEntries` keys. */
function stringMap<K extends z.ZodType<string>, V extends z.ZodType<string>>(
  key: K,
  value: V,
  maxEntries: number,
) {
  return z.record(key, value).refine((map) => Object.keys(map).length <= maxEntries, {
    error: `must have at most ${maxEntries} keys`,
  });
}

/** A refinement reporting every repeated key of a list, at the repeat's own path. */
function noRepeats<T>(keyOf: (item: T) => string, what: string, field?: string) {
  return (items: T[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const key = keyOf(item);
      if (seen.has(key)) {
        ctx.addIssue({
          code: "custom",
          message: `${what} ${JSON.stringify(key)} appears more than once`,
          path: field === undefined ? [index] : [index, field],
          input: item,
        });
      }
      seen.add(key);
    });
  };
}

const utf8 = new TextEncoder();

/** The longest sealed secrets box, in base64url characters. */
const MiB_TEXT = 1024 * 1024;

/** A raw 32-byte x25519 public key in base64url (43 characters). */
const x25519PublicKeySchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, {
  error: "must be a raw x25519 public key in base64url (43 characters)",
});

export const protocolVersionSchema = z.int().min(1);
export const idSchema = matching(PATTERNS.id);
export const attemptSchema = z.int().min(1);
export const timestampSchema = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 time such as 2025-01-31T09:15:00.000Z",
});
const nameSchema = matching(PATTERNS.name);
const artifactNameSchema = matching(PATTERNS.artifactName);
const poolSchema = matching(PATTERNS.pool);
/** An account (tenant) id. */
export const accountSchema = matching(PATTERNS.account);
const variableNameSchema = matching(PATTERNS.variableName);
const countSchema = z.int().min(0);
const httpUrlSchema = z
  .url({ protocol: /^https?$/, error: "must be an http or https URL" })
  .max(LIMITS.urlLength);

export const actionTypeIdSchema = z.object({
  category: z.enum(ACTION_CATEGORIES),
  owner: z.enum(ACTION_OWNERS),
  provider: matching(PATTERNS.provider),
  version: matching(PATTERNS.version),
});
export type ActionTypeId = z.output<typeof actionTypeIdSchema>;

const actionTypeKey = (t: ActionTypeId) => `${t.category}/${t.owner}/${t.provider}/${t.version}`;

/**
 * `<executionId>/<jobId>/<attempt>/<artifactName>`: the object of one artifact, unique per attempt (section 9).
 * Objects stored before version 2 were named `<executionId>/<artifactName>`; a job may still read them.
 */
const objectKeySchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}\/(?:[A-Za-z0-9_-]{1,64}\/[1-9][0-9]{0,8}\/)?[A-Za-z0-9_-]{1,100}$/, {
    error: "must be <executionId>/<jobId>/<attempt>/<artifactName>",
  });

/**
 * The job's lease token (section 6.2): a secret the server derives for one (jobId, attempt) and sends
 * only in the job; the agent proves with it that its accept, heartbeats and complete are the job's.
 */
export const leaseTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{32,128}$/, {
  error: "must be 32 to 128 characters from A-Z a-z 0-9 _ -",
});

/** An artifact stored in the artifacts bucket: where, how big, and its SHA-256 (section 9). */
export const storedArtifactSchema = z.object({
  name: artifactNameSchema,
  objectKey: objectKeySchema,
  size: countSchema,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: "must be 64 lowercase hex digits" }),
});
export type StoredArtifact = z.output<typeof storedArtifactSchema>;

function artifactList<T extends { name: string }>(item: z.ZodType<T>, what: string) {
  return z
    .array(item)
    .max(LIMITS.artifactsPerAction)
    .superRefine(noRepeats((a: T) => a.name, what, "name"));
}

const jobRefSchema = z.object({ jobId: idSchema, attempt: attemptSchema });

// ---------------------------------------------------------------------------------------------
// 5.1 JobMessage — server → agent

export const sourceRevisionSchema = z.object({
  actionName: nameSchema,
  revisionId: text(LIMITS.revisionIdLength),
  revisionSummary: text(LIMITS.summaryLength, 0).optional(),
  revisionUrl: httpUrlSchema.optional(),
});

export const jobMessageSchema = z
  .object({
    protocolVersion: protocolVersionSchema,
    jobId: idSchema,
    attempt: attemptSchema,
    executionId: idSchema,
    pipelineName: nameSchema,
    stageName: nameSchema,
    actionName: nameSchema,
    actionTypeId: actionTypeIdSchema,
    configuration: stringMap(text(LIMITS.configurationKeyLength), z.string(), LIMITS.configurationKeys),
    inputArtifacts: artifactList(storedArtifactSchema, "Input artifact"),
    outputArtifacts: artifactList(z.object({ name: artifactNameSchema }), "Output artifact"),
    outputArtifactKeyPrefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}\/[A-Za-z0-9_-]{1,64}\/[1-9][0-9]{0,8}\/$/, {
        error: "must be <executionId>/<jobId>/<attempt>/",
      }),
    leaseToken: leaseTokenSchema,
    pool: poolSchema,
    timeoutInMinutes: z.int().min(1).max(LIMITS.timeoutInMinutes),
    sourceRevision: sourceRevisionSchema.optional(),
    context: z.object({
      pipelineExecutionId: idSchema,
      variables: stringMap(variableNameSchema, text(LIMITS.variableValueLength, 0), LIMITS.pipelineVariables),
    }),
    dispatchedAt: timestampSchema,
    leaseSeconds: z.int().min(2).max(LIMITS.leaseSeconds),
    heartbeatIntervalSeconds: z.int().min(1).max(LIMITS.heartbeatIntervalSeconds),
  })
  .superRefine((job, ctx) => {
    if (job.context.pipelineExecutionId !== job.executionId) {
      ctx.addIssue({
        code: "custom",
        message: `must equal executionId (${job.executionId})`,
        path: ["context", "pipelineExecutionId"],
        input: job.context.pipelineExecutionId,
      });
    }
    if (job.leaseSeconds < 2 * job.heartbeatIntervalSeconds) {
      ctx.addIssue({
        code: "custom",
        message: `must be at least twice heartbeatIntervalSeconds (${2 * job.heartbeatIntervalSeconds})`,
        path: ["leaseSeconds"],
        input: job.leaseSeconds,
      });
    }
  });
export type JobMessage = z.output<typeof jobMessageSchema>;

// ---------------------------------------------------------------------------------------------
// 5.2–5.4 Accept, heartbeat, log chunk — agent → server

export const acceptMessageSchema = z.object({
  protocolVersion: protocolVersionSchema,
  ...jobRefSchema.shape,
  leaseToken: leaseTokenSchema,
  agent: z.object({
    id: idSchema,
    name: matching(PATTERNS.agentName),
    version: text(LIMITS.agentVersionLength),
  }),
  startedAt: timestampSchema,
});
export type AcceptMessage = z.output<typeof acceptMessageSchema>;

export const heartbeatMessageSchema = z.object({
  ...jobRefSchema.shape,
  leaseToken: leaseTokenSchema,
  agentId: idSchema,
  at: timestampSchema,
});
export type HeartbeatMessage = z.output<typeof heartbeatMessageSchema>;

export const logChunkMessageSchema = z.object({
  ...jobRefSchema.shape,
  sequence: z.int().min(1),
  at: timestampSchema,
  stream: z.enum(LOG_STREAMS),
  text: text(LIMITS.logChunkLength),
});
export type LogChunkMessage = z.output<typeof logChunkMessageSchema>;

// ---------------------------------------------------------------------------------------------
// 5.5 CompleteMessage — agent → server

export const outputVariablesSchema = z
  .record(variableNameSchema, z.string())
  .superRefine((variables, ctx) => {
    const bytes = Object.entries(variables).reduce(
      (sum, [name, value]) => sum + utf8.encode(name).length + utf8.encode(value).length,
      0,
    );
    if (bytes > LIMITS.outputVariablesBytes) {
      ctx.addIssue({
        code: "custom",
        message: `names and values must be at most ${LIMITS.outputVariablesBytes} bytes together; got ${bytes}`,
        input: variables,
      });
    }
  });

const completeFields = {
  ...jobRefSchema.shape,
  leaseToken: leaseTokenSchema,
  agentId: idSchema,
  summary: text(LIMITS.summaryLength, 0),
  externalUrl: httpUrlSchema.optional(),
  outputVariables: outputVariablesSchema.default({}),
  outputArtifacts: artifactList(storedArtifactSchema, "Output artifact").default([]),
  testReport: z.object({ passed: countSchema, failed: countSchema, skipped: countSchema }).optional(),
  lastLogSequence: countSchema.optional(),
  finishedAt: timestampSchema,
};

export const errorDetailsSchema = z.object({
  message: text(LIMITS.errorMessageLength),
  code: text(LIMITS.errorCodeLength).optional(),
});

const onlyWhenFailed = z.never({ error: "is only allowed when the outcome is Failed" }).optional();

export const completeMessageSchema = z.discriminatedUnion("outcome", [
  z.object({
    ...completeFields,
    outcome: z.literal("Succeeded"),
    failureType: onlyWhenFailed,
    failureCause: onlyWhenFailed,
    errorDetails: onlyWhenFailed,
  }),
  z
    .object({
      ...completeFields,
      outcome: z.literal("Failed"),
      failureType: z.enum(FAILURE_TYPES).default("JobFailed"),
      /**
       * Why it failed (failures.ts FAILURE_CAUSES). An agent older than the field sends none: the
       * cause its errorDetails.code meant then, else Unknown.
       */
      failureCause: z.enum(FAILURE_CAUSES).optional(),
      errorDetails: errorDetailsSchema.optional(),
    })
    .transform(({ failureCause, ...failed }) => ({
      ...failed,
      failureCause: failureCause ?? legacyFailureCause(failed.errorDetails?.code),
    })),
]);
export type CompleteMessage = z.output<typeof completeMessageSchema>;

// ---------------------------------------------------------------------------------------------
// 5.6 CancelMessage — server → agent

export const cancelMessageSchema = z.object({
  ...jobRefSchema.shape,
  /** One of CANCEL_REASONS, or any other sentence: agents accept reasons they do not know. */
  reason: text(LIMITS.cancelReasonLength),
});
export type CancelMessage = z.output<typeof cancelMessageSchema>;

// ---------------------------------------------------------------------------------------------
// 5.7 Registration — agent ↔ server

export const registerRequestSchema = z.object({
  protocolVersion: protocolVersionSchema,
  token: text(LIMITS.tokenMaxLength, LIMITS.tokenMinLength),
  name: matching(PATTERNS.agentName),
  pool: poolSchema.default(DEFAULT_POOL),
  labels: stringMap(matching(PATTERNS.labelKey), text(LIMITS.labelValueLength, 0), LIMITS.labels).default({}),
  providers: z
    .array(actionTypeIdSchema)
    .min(1)
    .max(LIMITS.providersPerAgent)
    .superRefine(noRepeats(actionTypeKey, "Action type")),
  version: text(LIMITS.agentVersionLength),
  capacity: z.int().min(1).max(LIMITS.agentCapacity).default(1),
  /**
   * The agent's x25519 public key (raw 32 bytes, base64url), made at its start and kept in memory:
   * the server seals a job's secret values for it (5.11). Optional: an agent without one runs no
   * job that has secrets.
   */
  publicKey: x25519PublicKeySchema.optional(),
});
export type RegisterRequest = z.output<typeof registerRequestSchema>;

/**
 * `code` is one of REGISTER_REFUSALS today, but the refusal's shape is frozen across versions so that
 * an old agent can always read why it was refused: any code is accepted, and an unknown one is fatal.
 */
/** The public keys that sign server messages (11.5): raw ed25519, base64url, 1–MAX_SERVER_KEYS. */
export const serverKeysSchema = z
  .array(
    z.string().refine(isSigningPublicKey, { message: "must be an ed25519 public key (32 bytes, base64url)" }),
  )
  .min(1)
  .max(MAX_SERVER_KEYS);

export const registerReplySchema = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    protocolVersion: protocolVersionSchema,
    agentId: idSchema,
    heartbeatIntervalSeconds: z.int().min(1).max(LIMITS.heartbeatIntervalSeconds),
    /**
     * The server's message keys (11.5). Only an agent without NATS credentials and without
     * `--server-key` (SLUICE_NATS_INSECURE=1) takes them from here: NATS is not authenticated then.
     */
    serverKeys: serverKeysSchema.optional(),
    /**
     * The account of the agent's token: the agent pulls its jobs from that account's consumers
     * (3.3). Absent: the default account.
     */
    account: accountSchema.optional(),
  }),
  z.object({
    ok: z.literal(false),
    protocolVersion: protocolVersionSchema,
    code: text(64),
    error: text(LIMITS.summaryLength),
  }),
]);
export type RegisterReply = z.output<typeof registerReplySchema>;

// ---------------------------------------------------------------------------------------------
// 5.8 AgentHeartbeat — agent → server

export const agentHeartbeatSchema = z.object({
  agentId: idSchema,
  at: timestampSchema,
  running: z.array(jobRefSchema).max(LIMITS.runningJobsPerAgent),
  /** The agent takes no new jobs and leaves once its running ones ended (SIGTERM). */
  draining: z.boolean().default(false),
  /** The agent's last heartbeat: it is leaving now (shown offline at once). */
  leaving: z.boolean().default(false),
});
export type AgentHeartbeat = z.output<typeof agentHeartbeatSchema>;

/**
 * The server's answer when the heartbeat was sent as a request. Like the registration refusal, its
 * shape is frozen across versions; an agent treats a code it does not know as fatal.
 */
export const agentHeartbeatReplySchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true) }),
  z.object({ ok: z.literal(false), code: text(64), error: text(LIMITS.summaryLength) }),
]);
export type AgentHeartbeatReply = z.output<typeof agentHeartbeatReplySchema>;

// ---------------------------------------------------------------------------------------------
// 5.9 PipelineEvent — server → server copies

export const pipelineEventSchema = z
  .object({
    pipelineName: nameSchema,
    /** The pipeline's account; absent: the default account. */
    account: accountSchema.optional(),
    /** What happened: EXECUTION_*, STAGE_*, ACTION_*, APPROVAL_*, TRANSITION_*, PIPELINE_* (the server's list). */
    type: z
      .string()
      .regex(/^[A-Z][A-Z_]{1,63}$/, { error: "must be an event type such as ACTION_SUCCEEDED" }),
    /** null for transition and definition events: they belong to no execution. */
    executionId: idSchema.nullable(),
    sequence: z.int().min(1).nullable(),
    stageName: nameSchema.optional(),
    actionName: nameSchema.optional(),
    actionExecutionId: idSchema.optional(),
    status: text(LIMITS.statusLength).optional(),
    pipelineVersion: z.int().min(1).optional(),
    by: text(LIMITS.principalLength).optional(),
    at: timestampSchema,
    /** What changed, as views show it after the change (absent in events of older servers). */
    statusSummary: z.string().max(8192).nullable().optional(),
    startTime: timestampSchema.nullable().optional(),
    endTime: timestampSchema.nullable().optional(),
    attempt: z.int().min(1).optional(),
    approvalPending: z.boolean().optional(),
    summary: text(LIMITS.summaryLength, 0).nullable().optional(),
    errorDetails: z
      .object({ code: text(LIMITS.errorCodeLength, 0), message: text(LIMITS.errorMessageLength, 0) })
      .nullable()
      .optional(),
    agentName: text(LIMITS.principalLength).nullable().optional(),
    /** ACTION_SUCCEEDED: the attempt's output variables when small (the server's limit). */
    outputVariables: z.record(z.string(), z.string()).optional(),
    /** APPROVAL_*: the decision, null when there is none. */
    approval: z
      .object({
        approved: z.boolean(),
        summary: z.string().max(LIMITS.summaryLength),
        by: text(LIMITS.principalLength),
        at: timestampSchema,
      })
      .nullable()
      .optional(),
    /** ACTION_SUCCEEDED: the artifacts the attempt produced. */
    outputArtifacts: z
      .array(z.object({ name: text(255), objectKey: text(1024), size: z.int().min(0), sha256: text(64) }))
      .max(LIMITS.artifactsPerAction)
      .optional(),
  })
  .superRefine((event, ctx) => {
    if ((event.executionId === null) !== (event.sequence === null)) {
      ctx.addIssue({
        code: "custom",
        message: "must be null exactly when executionId is null",
        path: ["sequence"],
        input: event.sequence,
      });
    }
    const needs =
      event.type.startsWith("ACTION_") || event.type.startsWith("APPROVAL_")
        ? ["stageName", "actionName"]
        : event.type.startsWith("STAGE_") || event.type.startsWith("TRANSITION_")
          ? ["stageName"]
          : [];
    for (const field of needs as ("stageName" | "actionName")[]) {
      if (event[field] === undefined) {
        ctx.addIssue({ code: "custom", message: `is required for ${event.type}`, path: [field] });
      }
    }
  });
export type PipelineEvent = z.output<typeof pipelineEventSchema>;

// ---------------------------------------------------------------------------------------------
// 5.11 SecretsRequest and SecretsReply — agent ↔ server (core NATS request)

export const secretsRequestSchema = z.object({
  ...jobRefSchema.shape,
  leaseToken: leaseTokenSchema,
  agentId: idSchema,
});
export type SecretsRequest = z.output<typeof secretsRequestSchema>;

const base64url = (max: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/)
    .max(max);

export const secretsReplySchema = z.discriminatedUnion("ok", [
  z.object({
    ok: z.literal(true),
    /** JSON of { property: value }, sealed for the agent's registered key (sealed.ts). */
    sealed: z.object({
      ephemeralPublicKey: x25519PublicKeySchema,
      iv: base64url(32),
      ciphertext: base64url(2 * MiB_TEXT),
    }),
  }),
  z.object({ ok: z.literal(false), code: text(64), error: text(LIMITS.summaryLength) }),
]);
export type SecretsReply = z.output<typeof secretsReplySchema>;

// ---------------------------------------------------------------------------------------------
// All of them, by the name the codec and ParsedSubject.message use

export const messageSchemas = {
  job: jobMessageSchema,
  accept: acceptMessageSchema,
  heartbeat: heartbeatMessageSchema,
  logChunk: logChunkMessageSchema,
  complete: completeMessageSchema,
  cancel: cancelMessageSchema,
  registerRequest: registerRequestSchema,
  registerReply: registerReplySchema,
  agentHeartbeat: agentHeartbeatSchema,
  agentHeartbeatReply: agentHeartbeatReplySchema,
  secretsRequest: secretsRequestSchema,
  secretsReply: secretsReplySchema,
  pipelineEvent: pipelineEventSchema,
} as const;

export type MessageKind = keyof typeof messageSchemas;
/** A message as a receiver has it: validated, defaults filled in. */
export type Message<K extends MessageKind> = z.output<(typeof messageSchemas)[K]>;
/** A message as a sender may write it: fields with defaults may be left out. */
export type MessageInput<K extends MessageKind> = z.input<(typeof messageSchemas)[K]>;

/** Kinds whose `protocolVersion` is checked before anything else (section 2). */
export const VERSIONED_KINDS: ReadonlySet<MessageKind> = new Set<MessageKind>([
  "job",
  "accept",
  "registerRequest",
]);
