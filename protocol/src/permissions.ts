/**
 * What an agent may do on NATS when NATS runs with authentication (PROTOCOL.md section 11): the
 * publish and subscribe allow lists the server writes into the agent's user JWT, and the inbox
 * prefix the agent connects with. Nothing else is allowed: NATS refuses every other subject.
 */
import { z } from "zod";
import { accountSchema, registerRequestSchema, serverKeysSchema, type ActionTypeId } from "./messages";
import { natsNames, tokenize } from "./names";
import { jobConsumerConfig } from "./streams";

export interface AgentGrant {
  /** The installation's prefix. */
  prefix: string;
  /** The agent's id (its row on the server): its cancel subject and its inbox. */
  agentId: string;
  pool: string;
  /** The account of its token: it is granted that account's pool only. Absent: the default account. */
  account?: string;
  /** The action types it registered: one job consumer each. */
  providers: readonly ActionTypeId[];
}

export interface SubjectPermissions {
  publish: string[];
  subscribe: string[];
}

/** The stream behind a NATS object store bucket (nats.js names it so). */
export function objectStoreStream(bucket: string): string {
  return `OBJ_${bucket}`;
}

/**
 * The agent's own inbox prefix (nats.js `inboxPrefix`): request replies, pull deliveries and object
 * store reads arrive under it, and no other agent may subscribe to it.
 */
export function agentInboxPrefix(agentId: string): string {
  return `_INBOX_${tokenize(agentId)}`;
}

/**
 * The subjects an agent may publish to and subscribe to. The JetStream API subjects are those the
 * agent's calls use (PROTOCOL.md 11.3):
 * - its job consumers: `CONSUMER.INFO` (look up), `CONSUMER.MSG.NEXT` (pull), `$JS.ACK` (ack, nak,
 *   term, in progress) on each consumer of its pool and providers, and nothing on any other;
 * - the cancel stream: `DIRECT.GET` (the last cancel of a job), the logs stream: `STREAM.MSG.GET`
 *   (has this attempt logged already), and `$JS.API.INFO` (nats.js checks JetStream is there).
 * Never: creating, updating or deleting a stream or a durable consumer, reading the jobs or
 * results streams, publishing jobs, cancels or events, and nothing at all on the artifacts bucket
 * (its stream `OBJ_<bucket>`, its `$O.<bucket>.>` subjects): an agent moves its job's artifacts
 * through the server's HTTP address, which checks the job's lease (JOB_ARTIFACTS_PATH below).
 */
export function agentPermissions(grant: AgentGrant): SubjectPermissions {
  const names = natsNames(grant.prefix);
  const jobs = names.streams.jobs;
  const durables = grant.providers.map(
    (type) => jobConsumerConfig(grant.prefix, grant.pool, type, { account: grant.account }).durable_name,
  );
  const inbox = agentInboxPrefix(grant.agentId);
  return {
    publish: [
      // Its own messages (the server checks each one's lease token and sender).
      names.subjects.register,
      names.subjects.agentHeartbeat,
      names.subjects.accept,
      names.subjects.heartbeat,
      names.subjects.complete,
      // The sealed secrets of a job it holds (the server checks the lease token and the accept).
      names.subjects.secrets,
      `${grant.prefix}.logs.*`,
      // Jobs of its pool and providers only.
      ...durables.flatMap((durable) => [
        `$JS.API.CONSUMER.INFO.${jobs}.${durable}`,
        `$JS.API.CONSUMER.MSG.NEXT.${jobs}.${durable}`,
        `$JS.ACK.${jobs}.${durable}.>`,
      ]),
      "$JS.API.INFO",
      `$JS.API.DIRECT.GET.${names.streams.cancel}.>`,
      `$JS.API.STREAM.MSG.GET.${names.streams.logs}`,
    ],
    subscribe: [`${inbox}.>`, names.subjects.agentCancel(grant.agentId)],
  };
}

// ---------------------------------------------------------------------------------------------
// 11.2 The exchange: `POST /agents/nats-credentials` with `Authorization: Bearer <agent token>`

/** A NATS user public key: `U` and 55 base32 characters. */
export const natsUserPublicKeySchema = z.string().regex(/^U[A-Z2-7]{55}$/, {
  message: "must be a NATS user public key (U followed by 55 base32 characters)",
});

/** What an agent asks for: its public key (never its seed) and what it registers as. */
export const natsCredentialsRequestSchema = registerRequestSchema
  .pick({ name: true, pool: true, providers: true })
  .extend({ publicKey: natsUserPublicKeySchema });
export type NatsCredentialsRequest = z.output<typeof natsCredentialsRequestSchema>;

export const natsCredentialsReplySchema = z.object({
  /** The user JWT the server signed for the agent's public key. */
  jwt: z.string().min(1).max(16_384),
  agentId: z.string().min(1).max(64),
  /** The inbox prefix the agent connects with (the only inbox it may subscribe to). */
  inboxPrefix: z.string().min(1).max(128),
  /** When the JWT expires (ISO 8601); the agent renews after two thirds of its life. */
  expiresAt: z.iso.datetime(),
  /**
   * The public keys that sign the server's jobs and cancels (11.5), the current one first: the agent
   * refuses a message signed by any other. Learnt here, over the authenticated HTTPS exchange.
   */
  serverKeys: serverKeysSchema,
  /**
   * Of `serverKeys`, those being retired after a rotation (11.5), each with the time (ISO 8601)
   * from which the agent refuses what it signed, even before its next renewal. Absent: none.
   */
  serverKeysRetiring: z.record(z.string(), z.iso.datetime()).optional(),
  /**
   * The account of the agent's token: its job consumers are that account's (3.3). Absent: the
   * default account (servers from before accounts).
   */
  account: accountSchema.optional(),
});
export type NatsCredentialsReply = z.output<typeof natsCredentialsReplySchema>;

/** The route of the exchange, on the server's HTTP address. */
export const NATS_CREDENTIALS_PATH = "/agents/nats-credentials";

// ---------------------------------------------------------------------------------------------
// 9.3 A job's artifacts over HTTP: `GET <server>/agents/jobs/<jobId>/<attempt>/inputs/<name>` and
// `PUT <server>/agents/jobs/<jobId>/<attempt>/outputs/<name>`, with `Authorization: Bearer <agent
// token>` and the job's lease token in LEASE_TOKEN_HEADER.

/** The routes of a job's artifacts, on the server's HTTP address (Express patterns). */
export const JOB_ARTIFACTS_PATHS = {
  input: "/agents/jobs/:jobId/:attempt/inputs/:name",
  output: "/agents/jobs/:jobId/:attempt/outputs/:name",
} as const;

/** The header that carries the job's lease token (section 6.2) with an artifact request. */
export const LEASE_TOKEN_HEADER = "x-sluice-lease-token";

/** The path of one input (`direction` "input") or output artifact of an attempt. */
export function jobArtifactPath(
  direction: keyof typeof JOB_ARTIFACTS_PATHS,
  jobId: string,
  attempt: number,
  name: string,
): string {
  return JOB_ARTIFACTS_PATHS[direction]
    .replace(":jobId", encodeURIComponent(jobId))
    .replace(":attempt", String(attempt))
    .replace(":name", encodeURIComponent(name));
}
