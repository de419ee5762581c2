import { jetstreamManager } from "@nats-io/jetstream";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import {
  DEFAULT_ACCOUNT,
  PROTOCOL_VERSION,
  TIMINGS,
  decode,
  encode,
  jobConsumerConfig,
  msgIds,
  natsNames,
  type AgentHeartbeatReply,
  type NatsNames,
  type RegisterReply,
  type RegisterRequest,
  type SecretsReply,
  seal,
  secretsContext,
} from "@sluice/protocol";
import { createRegistry } from "../domain/action-types/builtins";
import { decodeExecution } from "../domain/execution/stored";
import type { ExecutionState } from "../domain/execution/types";
import { secretProperties } from "../domain/pipeline/secrets";
import type { LeaseTokens } from "../engine/lease-tokens";
import type { PipelineStore } from "../persistence/pipeline-store";
import type { SecretStore } from "../persistence/secret-store";
import type { SecretVault } from "../persistence/secret-vault";
import { referencedNames, replaceReferences, secretReference } from "../domain/secrets/references";
import { parseTimerKey } from "../domain/execution";
import { untilAccepted, type JobEventSignals } from "../engine/job-event-signals";
import type { Logger } from "../logger";
import type { AgentRow, AgentStore } from "../persistence/agent-store";
import type { MessageSigner } from "./message-signer";
import type { NatsLink } from "./nats";
import type { NatsAuth } from "./nats-auth";

type AgentListener = (agent: AgentRow) => void;

/** How often every server copy looks for agents that went silent. */
const SWEEP_MS = 1000;

/**
 * How long a secrets request waits for its job's accept to be applied before it answers
 * NotStarted (the agent asks again); well under the agent's request timeout (5 s).
 */
const SECRETS_ACCEPT_WAIT_MS = 2000;

/**
 * The server's side of registration and agent heartbeats (PROTOCOL.md 5.7, 5.8, 6.1). Requests
 * arrive in the queue group that all server copies share, so one copy answers each. A status
 * change (online, busy, draining, offline) is published on `<prefix>.server.agents`, which every
 * copy reads without a queue group, so `agentEvents` subscribers of any copy see it.
 */
export class AgentGateway {
  private subscriptions: Subscription[] = [];
  private sweep: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<AgentListener>();
  private readonly names: NatsNames;
  private readonly statusSubject: string;
  /** When an agent heartbeat or a sweep last could not reach the database (ms since the epoch). */
  private databaseFailedAt = 0;

  constructor(
    private readonly nats: NatsLink,
    prefix: string,
    private readonly store: AgentStore,
    /** natsReplicas: SLUICE_NATS_REPLICAS, the replicas of the job consumers it creates (default 1). */
    private readonly options: { heartbeatIntervalSeconds: number; natsReplicas?: number },
    private readonly logger: Logger,
    /** What answering secretsRequest needs (PROTOCOL.md 5.11). */
    private readonly secrets: {
      vault: SecretVault;
      leaseTokens: LeaseTokens;
      store: PipelineStore;
      /** The secret store, for `{{resolve:secret:NAME}}` references. */
      secretStore: SecretStore;
      /** Wakes a secrets request waiting for its job's accept to be applied. */
      jobEvents?: JobEventSignals;
    },
    /** Signs the cancels it sends (PROTOCOL.md 11.5); its keys go in the registration reply. */
    private readonly signer: MessageSigner,
    /** With NATS authentication: revocations are pushed to nats-server too. */
    private readonly natsAuth: NatsAuth | null = null,
  ) {
    this.names = natsNames(prefix);
    this.statusSubject = `${prefix}.server.agents`;
  }

  start(): void {
    const nc = this.nats.nats;
    if (!nc || this.subscriptions.length > 0) return;
    const queue = this.names.queueGroup;
    this.subscriptions = [
      nc.subscribe(this.names.subjects.register, {
        queue,
        callback: (error, msg) => {
          if (!error) void this.register(nc, msg);
        },
      }),
      nc.subscribe(this.names.subjects.agentHeartbeat, {
        queue,
        callback: (error, msg) => {
          if (!error) void this.heartbeat(msg);
        },
      }),
      nc.subscribe(this.names.subjects.secrets, {
        queue,
        callback: (error, msg) => {
          if (!error) void this.answerSecrets(msg);
        },
      }),
      nc.subscribe(this.statusSubject, {
        callback: (error, msg) => {
          if (error) return;
          try {
            const agent = msg.json<AgentRow>();
            for (const listener of this.listeners) listener(agent);
          } catch {
            // not ours
          }
        },
      }),
    ];
    this.sweep = setInterval(() => void this.markSilentOffline(), SWEEP_MS);
    this.sweep.unref();
  }

  stop(): void {
    if (this.sweep) clearInterval(this.sweep);
    this.sweep = null;
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
  }

  /** Status changes of every agent, from every server copy, until the returned function is called. */
  onStatus(listener: AgentListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Tells the agents of a revoked token at once, rather than at their next heartbeat: a cancel
   * "Revoked" of each job they hold, on their own subjects. The agent stops the job and asks
   * its standing (an agent heartbeat, answered Unauthenticated), so it exits before it could
   * take the retry of the attempt it held.
   */
  tellRevoked(leases: ReadonlyArray<{ key: string; agentId: string }>): void {
    // nats-server closes the revoked agents' connections and refuses their credentials from now on.
    this.natsAuth
      ?.pushUntilDone()
      .catch((error: unknown) =>
        this.logger.error({ err: (error as Error).message }, "the revocation was not pushed to nats-server"),
      );
    const nc = this.nats.nats;
    if (!nc) return;
    for (const { key, agentId } of leases) {
      const lease = parseTimerKey(key);
      if (lease?.kind !== "lease") continue;
      try {
        const subject = this.names.subjects.agentCancel(agentId);
        const body = encode("cancel", {
          jobId: lease.actionExecutionId,
          attempt: lease.attempt,
          reason: "Revoked",
        });
        const msgId = `${msgIds.cancel(lease.actionExecutionId, lease.attempt)}:${agentId}`;
        nc.publish(subject, body, { headers: this.signer.headers("agentCancel", subject, msgId, body) });
      } catch (error) {
        this.logger.warn({ err: (error as Error).message, agentId }, "revocation not told to the agent");
      }
    }
  }

  /** Tells the other copies (and this one) that agents changed, e.g. after a token was revoked. */
  announce(agents: AgentRow[]): void {
    const nc = this.nats.nats;
    if (!nc) return;
    for (const agent of agents) nc.publish(this.statusSubject, JSON.stringify(agent));
  }

  private async register(nc: NatsConnection, msg: Msg): Promise<void> {
    const reply = await this.answerRegistration(nc, msg).catch((error: unknown): RegisterReply => {
      this.logger.error({ err: error }, "agent registration failed");
      return refusal("Unavailable", "The server cannot register agents now; try again shortly.");
    });
    if (msg.reply) msg.respond(encode("registerReply", reply));
  }

  private async answerRegistration(nc: NatsConnection, msg: Msg): Promise<RegisterReply> {
    const decoded = decode("registerRequest", msg.data, msg.subject);
    if (!decoded.ok) {
      const { error } = decoded;
      this.logger.warn({ error: error.message }, "agent registration refused");
      return error.reason === "IncompatibleVersion"
        ? refusal("IncompatibleProtocol", error.message)
        : refusal("InvalidRequest", error.message);
    }
    const request: RegisterRequest = decoded.message;
    const token = await this.store.authenticate(request.token);
    if (!token) {
      this.logger.warn({ name: request.name }, "agent registration refused: bad token");
      return refusal("Unauthenticated", "The agent token is unknown or was revoked.");
    }
    // The job consumers of the pool × providers exist before the agent pulls from them.
    const jsm = await jetstreamManager(nc);
    for (const type of request.providers) {
      await jsm.consumers.add(
        this.names.streams.jobs,
        jobConsumerConfig(this.names.prefix, request.pool, type, {
          replicas: this.options.natsReplicas ?? 1,
          // The pool of the token's account: the agent takes that account's jobs only.
          account: token.account,
        }) as never,
      );
    }
    const agent = await this.store.register(token.id, {
      name: request.name,
      pool: request.pool,
      labels: request.labels,
      providers: request.providers,
      version: request.version,
      capacity: request.capacity,
      protocolVersion: request.protocolVersion,
      heartbeatIntervalSeconds: this.options.heartbeatIntervalSeconds,
    });
    await this.store.recordPublicKey(agent.id, request.publicKey ?? null);
    this.logger.info(
      { agentId: agent.id, name: agent.name, pool: agent.pool, account: agent.account },
      "agent registered",
    );
    this.announce([agent]);
    return {
      ok: true,
      protocolVersion: PROTOCOL_VERSION,
      agentId: agent.id,
      heartbeatIntervalSeconds: this.options.heartbeatIntervalSeconds,
      // Trusted only by an agent on NATS without authentication and without --server-key (11.5).
      serverKeys: await this.signer.publicKeys(),
      // Where its jobs are (PROTOCOL.md 3.3); left out for the default account, as before accounts.
      ...(token.account === DEFAULT_ACCOUNT ? {} : { account: token.account }),
    };
  }

  private async answerSecrets(msg: Msg): Promise<void> {
    const answer = () =>
      this.sealedSecrets(msg).catch((error: unknown): SecretsReply => {
        // The message names the failure, never a value (none is in scope here anyway).
        this.logger.error({ err: (error as Error).message }, "cannot answer a secrets request");
        return {
          ok: false,
          code: "Unavailable",
          error: "The server cannot open the job's secrets now; try again.",
        };
      });
    // The agent asks right after its accept is stored: rather than send it into its backoff
    // (250 ms and more), wait a moment for the accept to be applied.
    const request = decode("secretsRequest", msg.data, msg.subject);
    const reply = (await untilAccepted(
      this.secrets.jobEvents,
      request.ok ? request.message.jobId : "",
      answer,
      (r) => !r.ok && r.code === "NotStarted",
      { waitMs: SECRETS_ACCEPT_WAIT_MS },
    ))!;
    if (msg.reply) msg.respond(encode("secretsReply", reply));
  }

  /**
   * A job's secret values, sealed for the agent that asks (PROTOCOL.md 5.11). The asker proves it
   * received the job (its lease token), is a registered agent whose token stands, and is the agent
   * whose accept started the attempt; the values are sealed for the public key that agent registered, so
   * a reply read by anyone else is of no use. Only the declared secret properties of the job's
   * action in the execution's pinned document are opened: never a value the request brings. The
   * `{{resolve:secret:NAME}}` references of that declaration are resolved here, from the store's
   * latest versions, and sealed keyed by the reference text; the agent replaces them.
   */
  private async sealedSecrets(msg: Msg): Promise<SecretsReply> {
    const decoded = decode("secretsRequest", msg.data, msg.subject);
    if (!decoded.ok)
      return { ok: false, code: "InvalidRequest", error: decoded.error.message.slice(0, 2048) };
    const request = decoded.message;
    const refuse = (code: string, error: string): SecretsReply => {
      this.logger.warn(
        { jobId: request.jobId, attempt: request.attempt, agentId: request.agentId, code },
        "secrets refused",
      );
      return { ok: false, code, error };
    };
    if (!this.secrets.leaseTokens.verifies(request.jobId, request.attempt, request.leaseToken))
      return refuse("Unauthenticated", "The lease token is not this job's.");
    const agent = await this.store.find(request.agentId);
    if (!agent || agent.revoked)
      return refuse("Unauthenticated", "The agent is unknown or its token was revoked.");
    const publicKey = await this.store.publicKeyOf(agent.id);
    if (!publicKey) return refuse("NoPublicKey", "The agent registered no public key to seal secrets for.");
    // The execution's record (present while the runtime holds it) and the document it pinned.
    const held = await this.secrets.store.executionOfJob(request.jobId);
    const record = held?.execution;
    if (!held || !record) return refuse("UnknownJob", "No running execution has this job.");
    // Only an agent of the pipeline's account (it could not have received another's job).
    if (agent.account !== held.account) return refuse("NotYourJob", "Another account's agents run this job.");
    const execution: ExecutionState = { ...decodeExecution(record), document: held.document };
    for (const [stageIndex, stage] of execution.stages.entries()) {
      for (const action of stage.actions) {
        const attempt = action.attempts.find(
          (a) => a.actionExecutionId === request.jobId && a.attempt === request.attempt,
        );
        if (!attempt) continue;
        if (attempt.status !== "Queued" && attempt.status !== "InProgress")
          return refuse("JobFinished", "The attempt is over.");
        if (attempt.agent && attempt.agent.id !== agent.id)
          return refuse("NotYourJob", "Another agent runs this attempt.");
        // Only the agent whose accept won the attempt: until the engine recorded it, ask again.
        if (!attempt.agent)
          return {
            ok: false,
            code: "NotStarted",
            error: "The server has not recorded the accept yet; ask again.",
          };
        const declaration = execution.document.stages[stageIndex]?.actions.find(
          (a) => a.name === action.actionName,
        );
        if (!declaration) return refuse("UnknownJob", "The job's action is not in its execution's document.");
        const registry =
          declaration.actionTypeId.owner === "Sluice"
            ? createRegistry([])
            : createRegistry(await this.secrets.store.customActionTypes());
        const values = await this.secrets.vault.openSecrets(
          declaration.configuration,
          secretProperties(registry.find(declaration.actionTypeId)),
        );
        // The store's references in the pinned declaration (never in a value a variable produced),
        // in clear values and in opened secret ones: their latest values, keyed by the reference.
        const names = new Set<string>();
        for (const [key, value] of Object.entries(declaration.configuration))
          for (const name of referencedNames(values[key] ?? value)) names.add(name);
        if (names.size > 0) {
          const stored = await this.secrets.secretStore.latestValues(held.account, [...names]);
          const missing = [...names].filter((name) => !stored.has(name));
          if (missing.length > 0)
            return refuse(
              "UnknownSecret",
              `The job references secret(s) the store does not hold: ${missing.join(", ")}.`,
            );
          // A secret property's value holding a reference is sent resolved.
          for (const key of Object.keys(values)) values[key] = replaceReferences(values[key]!, stored);
          for (const [name, value] of stored) values[secretReference(name)] = value;
        }
        return {
          ok: true,
          sealed: seal(JSON.stringify(values), publicKey, secretsContext(request.jobId, request.attempt)),
        };
      }
    }
    return refuse("UnknownJob", "No running execution has this job.");
  }

  private async heartbeat(msg: Msg): Promise<void> {
    const decoded = decode("agentHeartbeat", msg.data, msg.subject);
    if (!decoded.ok) {
      this.logger.warn({ error: decoded.error.message }, "agent heartbeat ignored");
      return;
    }
    const beat = decoded.message;
    let reply: AgentHeartbeatReply = { ok: true };
    try {
      const outcome = await this.store.heartbeat(beat.agentId, beat);
      if (outcome.ok) {
        if (outcome.changed) this.announce([outcome.changed]);
      } else {
        reply = {
          ok: false,
          code: outcome.code,
          error:
            outcome.code === "Unauthenticated"
              ? `The token of agent ${outcome.agent?.name ?? beat.agentId} was revoked.`
              : `No agent ${beat.agentId} is registered; register again.`,
        };
      }
    } catch (error) {
      // The database is away: say nothing, the agent keeps going on its leases.
      this.databaseFailedAt = Date.now();
      this.logger.warn({ err: (error as Error).message }, "agent heartbeat not recorded");
      return;
    }
    if (msg.reply) msg.respond(encode("agentHeartbeatReply", reply));
  }

  private async markSilentOffline(): Promise<void> {
    // Heartbeats that arrived while the database was away were not recorded: their agents are not
    // silent. After an outage every agent gets its offline delay again before it is judged.
    const grace = TIMINGS.agentOfflineAfterIntervals * this.options.heartbeatIntervalSeconds * 1000;
    if (Date.now() - this.databaseFailedAt < grace) return;
    try {
      this.announce(await this.store.markSilentOffline(TIMINGS.agentOfflineAfterIntervals));
    } catch {
      // the database is away; the next sweep tries again
      this.databaseFailedAt = Date.now();
    }
  }
}

function refusal(code: string, error: string): RegisterReply {
  return { ok: false, protocolVersion: PROTOCOL_VERSION, code, error: error.slice(0, 2048) };
}
