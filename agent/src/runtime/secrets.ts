/**
 * A job's secret values (PROTOCOL.md 5.11). The job message carries them as envelopes the server
 * encrypted at rest; after its accept is stored, the agent asks the server for them with a core
 * NATS request naming the job, its lease token and the agent's id, and gets them sealed for the
 * x25519 key it registered. It opens them in memory only: they reach the job's process through
 * its configuration, never a file of the agent's own or its log.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import {
  TIMINGS,
  decode,
  encode,
  isEnvelope,
  isStoreReference,
  openSealed,
  secretsContext,
  storeReferencePattern,
  type JobMessage,
  type NatsNames,
  type SealKeyPair,
} from "@sluice/protocol";
import { Backoff, errorMessage, sleep } from "./util";

/** Refusals that pass: the database is away, or the server has not recorded the accept yet. */
const RETRIED = new Set(["Unavailable", "NotStarted"]);

/** A refusal that asking again will not change: the job fails with it. */
export class SecretsRefused extends Error {
  override readonly name = "SecretsRefused";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Whether the job's configuration holds any encrypted value or secret store reference. */
export function hasSecrets(job: JobMessage): boolean {
  return Object.values(job.configuration).some((value) => isEnvelope(value) || hasStoreReference(value));
}

function hasStoreReference(value: string): boolean {
  return storeReferencePattern().test(value);
}

/** The secret values a job's box held: its secret properties and the store's references. */
export interface OpenedSecrets {
  /** Property → clear value, for the properties the job carries as envelopes. */
  properties: Record<string, string>;
  /** `{{resolve:secret:NAME}}` → the store's value, for the references the job carries. */
  references: Map<string, string>;
}

/** The configuration with each store reference whose value arrived replaced (the others stay). */
export function replaceStoreReferences(
  configuration: Record<string, string>,
  references: ReadonlyMap<string, string>,
): Record<string, string> {
  if (references.size === 0) return configuration;
  const replaced: Record<string, string> = {};
  for (const [key, value] of Object.entries(configuration))
    replaced[key] = value.replace(storeReferencePattern(), (whole) => references.get(whole) ?? whole);
  return replaced;
}

/**
 * The clear values of the job's secret properties; retried while no server answers or it is
 * unavailable, until `signal` aborts (the job stopped). Rejects with SecretsRefused otherwise.
 */
export async function fetchSecrets(
  nc: NatsConnection,
  names: NatsNames,
  keys: SealKeyPair,
  job: JobMessage,
  agentId: string,
  signal: AbortSignal,
  onRetry: (why: string) => void,
): Promise<OpenedSecrets> {
  const subject = names.subjects.secrets;
  const payload = encode(
    "secretsRequest",
    { jobId: job.jobId, attempt: job.attempt, leaseToken: job.leaseToken, agentId },
    subject,
  );
  const backoff = new Backoff(250, 5_000);
  for (;;) {
    if (signal.aborted) throw new Error("the job stopped before its secrets arrived");
    let why: string;
    try {
      const reply = await nc.request(subject, payload, { timeout: TIMINGS.registerTimeoutMs });
      const decoded = decode("secretsReply", reply.data, subject);
      if (!decoded.ok) why = `unreadable reply: ${decoded.error.message}`;
      else if (decoded.message.ok) {
        const values = JSON.parse(
          openSealed(decoded.message.sealed, keys, secretsContext(job.jobId, job.attempt)),
        ) as unknown;
        if (values === null || typeof values !== "object" || Array.isArray(values))
          throw new SecretsRefused("InvalidReply", "The sealed secrets are not an object.");
        const properties: Record<string, string> = {};
        const references = new Map<string, string>();
        for (const [key, value] of Object.entries(values)) {
          if (typeof value !== "string") continue;
          if (isEnvelope(job.configuration[key])) properties[key] = value;
          // Replaced only where the job carries the reference; masked in any case (a secret
          // property holding it comes resolved, and the value alone must be hidden too).
          else if (isStoreReference(key)) references.set(key, value);
        }
        return { properties, references };
      } else if (RETRIED.has(decoded.message.code)) why = decoded.message.error;
      else throw new SecretsRefused(decoded.message.code, decoded.message.error);
    } catch (error) {
      if (error instanceof SecretsRefused) throw error;
      if (error instanceof SyntaxError || /authenticate|Unsupported state/.test(errorMessage(error)))
        throw new SecretsRefused(
          "CannotOpen",
          "The sealed secrets could not be opened with this agent's key.",
        );
      why = `no reply (${errorMessage(error)})`;
    }
    onRetry(why);
    await sleep(backoff.next(), signal).catch(() => undefined);
  }
}
