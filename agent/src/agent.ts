/**
 * The agent's runtime (PROTOCOL.md sections 2, 3, 5, 6, 7, 10, 12): one NATS connection, the
 * registration (again after every reconnect), agent heartbeats, the cancel subscription, one pull
 * loop per provider sharing the concurrency slots, and drain/revocation. Each job is a JobRun.
 */
import { connect, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import {
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import {
  DEFAULT_ACCOUNT,
  PROTOCOL_VERSION,
  TIMINGS,
  decode,
  encode,
  jobConsumerConfig,
  msgIdNames,
  msgIds,
  natsNames,
  type NatsNames,
  generateSealKeyPair,
  type SealKeyPair,
} from "@sluice/protocol";
import type { AgentConfig } from "./config";
import { createJobUsers, type JobUsers } from "./exec/job-users";
import type { Logger } from "./logger";
import type { AgentMetrics } from "./metrics";
import {
  ArtifactError,
  formatActionTypeId,
  type ArtifactStore,
  type Provider,
  type StopReason,
} from "./providers/types";
import { JobRun, jobKey, type JobHost } from "./runtime/job-run";
import type { HostSecrets } from "./runtime/host-references";
import { CredentialsRefused, NatsCredentials } from "./runtime/nats-credentials";
import { register, RegistrationRefused, type Registration } from "./runtime/registration";
import { refusalComplete } from "./runtime/refusal";
import { ServerKeys } from "./runtime/server-keys";
import { Slots } from "./runtime/slots";
import { prepareWorkDir } from "./runtime/workspace";
import { Backoff, errorMessage, sleep, withTimeout } from "./runtime/util";
import { AGENT_VERSION } from "./runtime/version";

export interface AgentDependencies {
  logger: Logger;
  /** What runs each action type, keyed by formatActionTypeId; one pull loop each. */
  providers: ReadonlyMap<string, Provider>;
  /**
   * Builds the artifact store on the server's job artifact routes (PROTOCOL.md 9.3): the agent's
   * NATS user has no access to the artifacts bucket.
   */
  artifactStore: (server: { serverUrl: string; token: string }) => ArtifactStore;
  /** Aborting it before registration succeeded makes `start` reject with AgentStopped. */
  signal?: AbortSignal;
  /** Milliseconds per minute of a job's timeout; only tests change it (default 60,000). */
  minuteMs?: number;
  /** Prometheus metrics (--metrics-port): jobs running, ended, and their durations. */
  metrics?: AgentMetrics;
}

/** Registration refused for good, or the token revoked: the agent exits with status 3. */
export class AgentFatalError extends Error {
  override readonly name = "AgentFatalError";
  readonly exitCode = 3;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The agent was asked to stop before it was registered. */
export class AgentStopped extends Error {
  override readonly name = "AgentStopped";
  readonly exitCode = 0;
}

/** How long a pull request waits on the server for a job; an idle agent renews it. */
const PULL_EXPIRES_MS = 10_000;
/**
 * A polling agent (config.pollIntervalMs) pulls only after a poll saw a job waiting, so the pull
 * is answered at once; this expiry (nats.js's floor) only bounds the pull when another agent took
 * that job in between.
 */
const POLL_EXPIRES_MS = 1000;
/** How long completes and log chunks keep retrying once the agent has decided to leave. */
const LEAVING_GRACE_MS = 15_000;
/** Agent heartbeats wait this long for a reply (5.8). */
const HEARTBEAT_REPLY_TIMEOUT_MS = 5000;
/** At most one credentials request this often for messages signed by a key the agent does not know. */
const KEY_REFRESH_MS = 5000;

export class Agent implements JobHost {
  readonly names: NatsNames;
  readonly logger: Logger;
  readonly workDir: string;
  readonly logCapBytes: number;
  /** The users jobs run as (a root agent); null: the agent's own user. */
  jobUsers: JobUsers | null = null;
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  agent!: { id: string; name: string; pool: string; version: string };
  draining = false;
  readonly minuteMs: number;
  /** Made at start, in memory only: the server seals jobs' secrets for its public key (5.11). */
  readonly sealKeys: SealKeyPair = generateSealKeyPair();
  /** Whose signatures make a job or cancel one to obey (PROTOCOL.md 11.5). */
  readonly serverKeys: ServerKeys;

  private readonly jobs = new Map<string, JobRun>();
  private readonly runs = new Set<Promise<void>>();
  private readonly slots: Slots;
  private readonly fetches = new Set<ConsumerMessages>();
  private readonly cancelSubscriptions = new Map<string, Subscription>();
  private readonly pulling = new AbortController();
  private readonly closing = new AbortController();
  private readonly giveUpController = new AbortController();
  private readonly forced = new AbortController();
  private heartbeatIntervalMs = TIMINGS.defaultHeartbeatIntervalSeconds * 1000;
  /** The account of the agent's token (its registration says which): its job consumers are that account's. */
  private account: string = DEFAULT_ACCOUNT;
  private registering: Promise<void> | null = null;
  /** With NATS authentication (config.serverUrl): the agent's short-lived NATS user. */
  private credentials: NatsCredentials | null = null;
  private checkingCredentials = false;
  /** A credentials request made for a key the agent did not know (refreshServerKeys), while it runs. */
  private keysRefresh: Promise<void> | null = null;
  private keysRefreshedAt = 0;
  /** False between a disconnect and the reconnect that follows. */
  private natsConnected = true;
  private artifactStore: ArtifactStore | null = null;
  private stopping = false;
  private exiting = false;
  private fatal: AgentFatalError | null = null;
  private resolveDone!: (code: number) => void;
  readonly done: Promise<number>;

  constructor(
    private readonly config: AgentConfig,
    private readonly deps: AgentDependencies,
  ) {
    this.names = natsNames(config.prefix);
    this.logger = deps.logger;
    this.workDir = config.workDir;
    this.logCapBytes = config.logCapBytes;
    this.slots = new Slots(config.concurrency);
    this.minuteMs = deps.minuteMs ?? 60_000;
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.serverKeys = new ServerKeys(config.serverKeys);
  }

  get agentId(): string {
    return this.agent.id;
  }

  /** What jobs may read of this host's secrets (--secret-env, --secret-dir). */
  get hostSecrets(): HostSecrets {
    return this.config.hostSecrets ?? { env: [] };
  }

  get giveUp(): AbortSignal {
    return this.giveUpController.signal;
  }

  /** Why the agent exited with status 3, when it did. */
  get fatalError(): AgentFatalError | null {
    return this.fatal;
  }

  /** Connects and registers; resolves once the agent takes jobs. */
  async start(): Promise<void> {
    const { config, logger } = this;
    for (const provider of this.deps.providers.values()) {
      // Fails fast on a provider the protocol cannot name.
      jobConsumerConfig(config.prefix, config.pool, provider.id);
    }
    const isolation = config.jobIsolation;
    this.jobUsers = isolation ? createJobUsers(isolation) : null;
    prepareWorkDir(config.workDir, this.jobUsers !== null);
    if (this.jobUsers) logger.info(`jobs run ${this.jobUsers.description}`);
    else if (isolation?.mode === "none" && isolation.reason === "disabled" && process.getuid?.() === 0) {
      logger.warn(
        "jobs run as root, the agent's own user (--no-job-isolation): a job can read the agent's token and every other job's workspace",
      );
    }
    if (!config.serverUrl)
      logger.warn(
        "no --server-url (SLUICE_SERVER_URL): jobs with input or output artifacts fail (artifacts move through the server)",
      );
    if (config.serverUrl && !config.natsInsecure) {
      this.credentials = new NatsCredentials(
        config.serverUrl,
        config.token,
        {
          name: config.name,
          pool: config.pool,
          providers: [...this.deps.providers.values()].map((p) => p.id),
        },
        logger,
      );
      try {
        await this.credentials.fetch(this.deps.signal);
        this.learnServerKeys();
      } catch (error) {
        if (error instanceof CredentialsRefused)
          throw new AgentFatalError("Unauthenticated", `NATS credentials refused: ${error.message}`);
        if (this.deps.signal?.aborted) throw new AgentStopped("stopped before the agent was registered");
        throw error;
      }
    }
    this.nc = await this.connect();
    this.js = jetstream(this.nc);
    this.jsm = await jetstreamManager(this.nc);

    let registration: Registration;
    try {
      registration = await register(this.nc, this.names, this.registerRequest(), logger, this.deps.signal);
    } catch (error) {
      await this.nc.close().catch(() => undefined);
      if (error instanceof RegistrationRefused) throw new AgentFatalError(error.code, error.message);
      if (this.deps.signal?.aborted) throw new AgentStopped("stopped before the agent was registered");
      throw error;
    }
    this.agent = { id: registration.agentId, name: config.name, pool: config.pool, version: AGENT_VERSION };
    this.account = registration.account;
    this.serverKeys.learnFromRegistration(registration.serverKeys);
    if (this.serverKeys.source === "registration")
      logger.warn(
        "trusting the message keys of the registration reply: NATS is not authenticated (pin them with --server-key)",
      );
    this.heartbeatIntervalMs = registration.heartbeatIntervalSeconds * 1000;
    this.subscribeCancels(registration.agentId);
    logger.info(
      {
        agentId: registration.agentId,
        pool: config.pool,
        providers: [...this.deps.providers.keys()],
        concurrency: config.concurrency,
      },
      "registered",
    );

    void this.watchConnection();
    void this.heartbeatLoop();
    void this.credentials?.renewLoop(
      this.closing.signal,
      // The renewed JWT counts from the next connect: reconnect now rather than when the old one expires.
      () => {
        this.learnServerKeys();
        void this.nc.reconnect().catch(() => undefined);
      },
      (error) =>
        this.exitFatal(new AgentFatalError("Unauthenticated", `NATS credentials refused: ${error.message}`)),
    );
    for (const provider of this.deps.providers.values()) void this.pullLoop(provider);
  }

  /**
   * Drains: no new jobs, running ones may finish within the drain timeout, then a leaving
   * heartbeat and exit 0. Called again (or with force), it stops running jobs at once.
   */
  stop(options: { force?: boolean } = {}): void {
    if (this.stopping) {
      if (!this.forced.signal.aborted) {
        this.logger.warn("stopping now: running jobs are aborted");
        this.forced.abort();
      }
      return;
    }
    this.stopping = true;
    if (options.force) this.forced.abort();
    void this.shutdown();
  }

  async artifacts(): Promise<ArtifactStore> {
    const serverUrl = this.config.serverUrl;
    if (!serverUrl)
      throw new ArtifactError(
        "ConfigurationError",
        "this agent has no --server-url (SLUICE_SERVER_URL): job artifacts move through the server",
      );
    this.artifactStore ??= this.deps.artifactStore({ serverUrl, token: this.config.token });
    return this.artifactStore;
  }

  // -------------------------------------------------------------------------------------------
  // Connection and registration

  private async connect(): Promise<NatsConnection> {
    const credentials = this.credentials?.credentials;
    const nc = await connect({
      ...(credentials && this.credentials
        ? {
            authenticator: this.credentials.authenticator(),
            // Replies and pulled jobs arrive under the agent's own inbox, the only one it may read.
            inboxPrefix: credentials.inboxPrefix,
            // A refused connect (credentials expired while the server was away) is retried with the renewed ones.
            ignoreAuthErrorAbort: true,
          }
        : {}),
      ...(this.config.natsCaFile ? { tls: { caFile: this.config.natsCaFile } } : {}),
      servers: this.config.natsServers,
      name: `sluice-agent ${this.config.name}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      // nats.js otherwise captures a stack trace (two Error objects) for every request and publish
      // acknowledgement, a dozen per job; the agent logs NATS errors by their message.
      noAsyncTraces: true,
    });
    this.logger.info({ servers: this.config.natsServers }, "connected to NATS");
    if (!credentials)
      this.logger.warn(
        "SLUICE_NATS_INSECURE=1: NATS without authentication; whoever reaches it can take and forge jobs",
      );
    return nc;
  }

  private registerRequest() {
    const { config } = this;
    return {
      protocolVersion: PROTOCOL_VERSION,
      token: config.token,
      name: config.name,
      pool: config.pool,
      labels: config.labels,
      providers: [...this.deps.providers.values()].map((p) => p.id),
      version: AGENT_VERSION,
      capacity: config.concurrency,
      publicKey: this.sealKeys.publicKey,
    };
  }

  /** After a reconnect or an UnknownAgent heartbeat reply: register again (one at a time). */
  private reregister(why: string): Promise<void> {
    this.registering ??= (async () => {
      this.logger.info(`registering again: ${why}`);
      try {
        const registration = await register(
          this.nc,
          this.names,
          this.registerRequest(),
          this.logger,
          this.closing.signal,
        );
        if (registration.agentId !== this.agent.id) {
          // Running jobs keep the id they were accepted under; new ones use the new id.
          this.logger.warn(
            { old: this.agent.id, agentId: registration.agentId },
            "the server gave a new agent id",
          );
          this.agent = { ...this.agent, id: registration.agentId };
          this.subscribeCancels(registration.agentId);
        }
        this.heartbeatIntervalMs = registration.heartbeatIntervalSeconds * 1000;
        this.serverKeys.learnFromRegistration(registration.serverKeys);
      } catch (error) {
        if (error instanceof RegistrationRefused) {
          this.exitFatal(new AgentFatalError(error.code, error.message));
        } else if (!this.closing.signal.aborted) {
          this.logger.error({ err: errorMessage(error) }, "registering again failed");
        }
      } finally {
        this.registering = null;
      }
    })();
    return this.registering;
  }

  private subscribeCancels(agentId: string): void {
    if (this.cancelSubscriptions.has(agentId)) return;
    const subject = this.names.subjects.agentCancel(agentId);
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (!err) this.onAgentCancel(subject, msg);
      },
    });
    this.cancelSubscriptions.set(agentId, sub);
  }

  private onAgentCancel(subject: string, msg: Msg, keysRefreshed = false): void {
    // Anyone who can make NATS answer onto this subject can put bytes here: only signed ones count.
    const signature = this.serverKeys.check(msg.headers, subject, msg.data);
    if (!signature.ok) {
      if (signature.reason === "UnknownKey" && !keysRefreshed && this.learnsServerKeys()) {
        void this.refreshServerKeys().then(() => this.onAgentCancel(subject, msg, true));
        return;
      }
      this.logger.warn(
        { subject, reason: signature.reason, err: signature.message },
        "ignoring a cancel the server did not sign",
      );
      return;
    }
    const decoded = decode("cancel", msg.data, subject);
    if (!decoded.ok) {
      this.logger.warn({ subject, err: decoded.error.message }, "ignoring an invalid cancel");
      return;
    }
    const { jobId, attempt, reason } = decoded.message;
    if (!msgIdNames(signature.msgId, msgIds.cancel(jobId, attempt))) {
      this.logger.warn({ subject, msgId: signature.msgId }, "ignoring a cancel whose id names another job");
      return;
    }
    // The server revoked our token: ask our standing now (the answer, Unauthenticated, makes
    // the agent stop pulling and exit) rather than at the next heartbeat, when it could
    // already have taken the retry of the very job it loses.
    if (reason === "Revoked") void this.sendHeartbeat();
    const run = this.jobs.get(jobKey(jobId, attempt));
    if (run?.applyCancel(jobId, attempt, reason)) return;
    this.logger.debug({ jobId, attempt, reason }, "ignoring a cancel of a job this agent does not run");
  }

  /** Follows reconnects: register again and re-read the cancel subject of every job (6.3, 12.6). */
  private async watchConnection(): Promise<void> {
    const nc = this.nc;
    void nc.closed().then((error) => {
      if (!this.exiting) {
        this.logger.error({ err: error ? errorMessage(error) : undefined }, "the NATS connection closed");
        this.abortAll({ kind: "Shutdown", message: "Cancelled: agent lost its NATS connection" });
        void this.finish(1);
      }
    });
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        this.natsConnected = false;
        this.logger.warn("disconnected from NATS; reconnecting");
        // nats-server closes a revoked agent's connection: ask the server whether we still may connect.
        void this.checkCredentials();
      } else if (status.type === "reconnect") {
        this.natsConnected = true;
        this.logger.info("reconnected to NATS");
        if (this.exiting) continue;
        void this.reregister("reconnected").then(() => {
          for (const run of this.jobs.values()) {
            run
              .checkCancel()
              .catch((error: unknown) =>
                this.logger.debug({ err: errorMessage(error), jobId: run.job.jobId }, "cancel check failed"),
              );
          }
        });
      }
    }
  }

  /** The message keys of the last credentials, with when the retiring ones stop (PROTOCOL.md 11.5). */
  private learnServerKeys(): void {
    const current = this.credentials?.credentials;
    if (current) this.serverKeys.learnFromCredentials(current.serverKeys, current.serverKeysRetiring);
  }

  /**
   * A job or cancel signed by a key the agent does not trust: the server may have rotated its key
   * since the last renewal (PROTOCOL.md 11.5, "Rotation"), so the agent asks for its credentials
   * again and learns the keys they list. One request at a time, and none within KEY_REFRESH_MS of
   * the last: a flood of forged messages costs the server one exchange every few seconds.
   */
  private refreshServerKeys(): Promise<void> {
    if (!this.learnsServerKeys() || this.exiting) return Promise.resolve();
    if (this.keysRefresh) return this.keysRefresh;
    if (Date.now() - this.keysRefreshedAt < KEY_REFRESH_MS) return Promise.resolve();
    this.keysRefreshedAt = Date.now();
    // Without credentials (SLUICE_NATS_INSECURE=1) the keys come with the registration reply.
    if (this.serverKeys.source === "registration") {
      this.keysRefresh = this.reregister("a message is signed by a key this agent does not know").finally(
        () => {
          this.keysRefresh = null;
        },
      );
      return this.keysRefresh;
    }
    const credentials = this.credentials!;
    this.keysRefresh = credentials
      .fetchOnce()
      .then(
        () => {
          this.learnServerKeys();
          this.logger.info(
            { serverKeys: [...this.serverKeys.trusted] },
            "learnt the server's message keys again",
          );
        },
        (error: unknown) => {
          if (error instanceof CredentialsRefused)
            this.exitFatal(
              new AgentFatalError("Unauthenticated", `NATS credentials refused: ${error.message}`),
            );
          else this.logger.warn({ err: errorMessage(error) }, "cannot ask for the server's message keys now");
        },
      )
      .finally(() => {
        this.keysRefresh = null;
      });
    return this.keysRefresh;
  }

  /** Whether the agent learns the server's keys (from credentials or registrations), rather than pinning them. */
  private learnsServerKeys(): boolean {
    const source = this.serverKeys.source;
    return (source === "credentials" && this.credentials !== null) || source === "registration";
  }

  /** After a disconnect: fresh credentials, or a refusal that ends the agent (status 3). */
  private async checkCredentials(): Promise<void> {
    if (!this.credentials || this.checkingCredentials || this.exiting) return;
    // Just renewed (the reconnect that follows a renewal): ask again only if still disconnected then.
    if (Date.now() - this.credentials.fetchedAt < 10_000) {
      setTimeout(() => {
        if (!this.natsConnected) void this.checkCredentials();
      }, 10_000).unref();
      return;
    }
    this.checkingCredentials = true;
    try {
      await this.credentials.fetchOnce();
      this.learnServerKeys();
    } catch (error) {
      if (error instanceof CredentialsRefused)
        this.exitFatal(new AgentFatalError("Unauthenticated", `NATS credentials refused: ${error.message}`));
      else this.logger.debug({ err: errorMessage(error) }, "cannot renew NATS credentials now");
    } finally {
      this.checkingCredentials = false;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Agent heartbeats (5.8)

  private async heartbeatLoop(): Promise<void> {
    while (!this.closing.signal.aborted) {
      await sleep(this.heartbeatIntervalMs, this.closing.signal);
      if (this.closing.signal.aborted || this.exiting) break;
      await this.sendHeartbeat();
    }
  }

  private async sendHeartbeat(leaving = false, timeoutMs = HEARTBEAT_REPLY_TIMEOUT_MS): Promise<void> {
    const subject = this.names.subjects.agentHeartbeat;
    const running = [...this.jobs.values()]
      .filter((run) => run.accepted)
      .slice(0, 256)
      .map((run) => ({ jobId: run.job.jobId, attempt: run.job.attempt }));
    const payload = encode(
      "agentHeartbeat",
      { agentId: this.agent.id, at: new Date().toISOString(), running, draining: this.draining, leaving },
      subject,
    );
    let reply;
    try {
      reply = await this.nc.request(subject, payload, { timeout: timeoutMs });
    } catch (error) {
      // No server answering changes nothing: the jobs' leases guard them (5.8).
      this.logger.debug({ err: errorMessage(error) }, "agent heartbeat not answered");
      return;
    }
    const decoded = decode("agentHeartbeatReply", reply.data, subject);
    if (!decoded.ok) {
      this.logger.warn({ err: decoded.error.message }, "unreadable agent heartbeat reply");
      return;
    }
    const answer = decoded.message;
    if (answer.ok || leaving) return;
    if (answer.code === "UnknownAgent") {
      this.logger.warn({ error: answer.error }, "the server does not know this agent");
      void this.reregister("the server does not know this agent");
      return;
    }
    // Unauthenticated, or a code this agent does not know: fatal either way (5.8).
    this.exitFatal(new AgentFatalError(answer.code, answer.error));
  }

  // -------------------------------------------------------------------------------------------
  // Jobs (6.2)

  /**
   * Pulls one job at a time from this provider's durable consumer while a slot is free: a
   * long-poll pull kept waiting on the server, or with `pollIntervalMs` a poll every interval.
   */
  private async pullLoop(provider: Provider): Promise<void> {
    const type = formatActionTypeId(provider.id);
    // The pool of the token's account (the registration said which): never another account's jobs.
    const durable = jobConsumerConfig(this.config.prefix, this.config.pool, provider.id, {
      account: this.account,
    }).durable_name;
    const backoff = new Backoff(250, 5000);
    const signal = this.pulling.signal;
    let consumer: Consumer | null = null;
    let failures = 0;
    /** Polling: the last poll saw a delivered job not yet acknowledged. */
    let unacked = false;
    while (!signal.aborted) {
      await this.slots.whenFree(signal);
      if (signal.aborted) break;
      try {
        consumer ??= await this.js.consumers.get(this.names.streams.jobs, durable);
        const pollIntervalMs = this.config.pollIntervalMs;
        if (pollIntervalMs !== undefined) {
          const polled = await this.poll(consumer, unacked);
          unacked = polled.unacked;
          if (!polled.work) {
            failures = 0;
            backoff.reset();
            await sleep(pollIntervalMs, signal);
            continue;
          }
        }
        const messages = await consumer.fetch({
          max_messages: 1,
          expires: pollIntervalMs === undefined ? PULL_EXPIRES_MS : POLL_EXPIRES_MS,
        });
        this.fetches.add(messages);
        let received = 0;
        try {
          for await (const msg of messages) {
            received += 1;
            this.onJob(msg, provider);
          }
        } finally {
          this.fetches.delete(messages);
        }
        failures = 0;
        backoff.reset();
        // Another agent took the job between the poll and the pull: wait for the next poll.
        if (pollIntervalMs !== undefined && received === 0) await sleep(pollIntervalMs, signal);
      } catch (error) {
        if (signal.aborted) break;
        consumer = null;
        failures += 1;
        const log = failures === 1 ? this.logger.warn.bind(this.logger) : this.logger.debug.bind(this.logger);
        log({ type, consumer: durable, err: errorMessage(error) }, "cannot pull jobs; retrying");
        await sleep(backoff.next(), signal);
      }
    }
  }

  /**
   * A polling agent's request for work, answered at once: does the consumer hold a job not yet
   * delivered (or one to deliver again)? Like GitLab Runner's `POST /jobs/request` or a GoCD agent's
   * work request, it holds nothing open on the server between polls.
   */
  private async poll(
    consumer: Consumer,
    unackedBefore: boolean,
  ): Promise<{ work: boolean; unacked: boolean }> {
    const info = await consumer.info(false);
    const unacked = info.num_ack_pending > 0;
    // A job delivered and not yet acknowledged is usually being accepted (acks follow within
    // milliseconds); one still there at the next poll was NAKed and waits to be delivered again.
    return { work: info.num_pending > 0 || (unacked && unackedBefore), unacked };
  }

  private onJob(msg: JsMsg, provider: Provider, keysRefreshed = false): void {
    const subject = msg.subject;
    // First of all (PROTOCOL.md 11.5): JetStream can be made to write anything into the jobs stream.
    const signature = this.serverKeys.check(msg.headers, subject, msg.data);
    if (!signature.ok) {
      // A key rotated in since the last renewal: learn the keys again, then look once more.
      if (signature.reason === "UnknownKey" && !keysRefreshed && this.learnsServerKeys()) {
        void this.refreshServerKeys().then(() => this.onJob(msg, provider, true));
        return;
      }
      this.refuseForged(msg, signature.reason, signature.message);
      return;
    }
    const decoded = decode("job", msg.data, subject);
    if (!decoded.ok) {
      const { error } = decoded;
      const newer = error.reason === "IncompatibleVersion" && (error.version ?? 0) > PROTOCOL_VERSION;
      this.logger.error(
        { subject, reason: error.reason, errors: error.issues.map((i) => i.message) },
        `refusing a job: ${error.message}`,
      );
      // Another agent may understand a newer job; nobody will understand an older or broken one (2).
      if (newer) msg.nak(TIMINGS.newerVersionNakDelayMs);
      else void this.refuse(msg, error.message);
      return;
    }
    const job = decoded.message;
    if (!msgIdNames(signature.msgId, msgIds.job(job.jobId, job.attempt))) {
      this.refuseForged(msg, "BadSignature", `its Nats-Msg-Id ${signature.msgId} names another job`);
      return;
    }
    const key = jobKey(job.jobId, job.attempt);
    if (this.jobs.has(key)) {
      // Delivered again while it runs here (NATS lost its +ACK): handing it back would start it
      // on another agent, so it is acknowledged again instead.
      msg.ack();
      return;
    }
    if (this.draining || !this.slots.tryTake()) {
      // Two pulls answered at once for one free slot, or a draining agent: back it goes.
      msg.nak();
      return;
    }
    const run = new JobRun(this, job, provider, this.agent.id);
    this.jobs.set(key, run);
    const ended = this.deps.metrics?.jobStarted(provider.id.provider);
    const done = run.execute(msg).finally(() => {
      ended?.(run.reported ?? "Stopped");
      this.jobs.delete(key);
      this.slots.release();
      this.runs.delete(done);
    });
    this.runs.add(done);
  }

  /**
   * A job the server did not sign: no agent may run it (+TERM), and nothing is reported, since it
   * names a job (if any) the server did not send. Logged with its subject so the operator sees
   * the attempt.
   */
  private refuseForged(msg: JsMsg, reason: string, message: string): void {
    this.logger.warn(
      { subject: msg.subject, reason, err: message, streamSequence: msg.seq },
      "refusing a job the server did not sign",
    );
    msg.term();
  }

  /**
   * A job no agent will run: its attempt fails now with the reason (a complete, which the server
   * takes from any agent while the attempt is Queued), then the message is terminated.
   */
  private async refuse(msg: JsMsg, reason: string): Promise<void> {
    const complete = refusalComplete(msg.data, this.agent.id, reason);
    if (complete) {
      try {
        await this.js.publish(this.names.subjects.complete, encode("complete", complete), {
          msgID: msgIds.complete(complete.jobId, complete.attempt, this.agent.id),
          timeout: 5000,
        });
      } catch (error) {
        this.logger.warn(
          { err: errorMessage(error) },
          "could not report the refused job; the server's timeout ends it",
        );
      }
    }
    // No reason text: nats-server 2.9 only understands a bare +TERM.
    msg.term();
  }

  private abortAll(reason: StopReason): void {
    for (const run of this.jobs.values()) run.stop(reason);
  }

  private async allRunsSettled(): Promise<void> {
    while (this.runs.size > 0) await Promise.allSettled([...this.runs]);
  }

  private stopPulling(): void {
    this.pulling.abort();
    for (const messages of this.fetches) void messages.close();
  }

  // -------------------------------------------------------------------------------------------
  // Leaving

  private async shutdown(): Promise<void> {
    const { logger } = this;
    this.draining = true;
    this.stopPulling();
    const running = this.jobs.size;
    logger.info({ running, drainTimeoutSeconds: this.config.drainTimeoutSeconds }, "draining");
    void this.sendHeartbeat();
    if (!this.forced.signal.aborted && running > 0) {
      const deadline = new AbortController();
      const timer = setTimeout(() => deadline.abort(), this.config.drainTimeoutSeconds * 1000);
      const wake = () => deadline.abort();
      this.forced.signal.addEventListener("abort", wake, { once: true });
      await Promise.race([
        this.allRunsSettled(),
        new Promise<void>((resolve) =>
          deadline.signal.addEventListener("abort", () => resolve(), { once: true }),
        ),
      ]);
      clearTimeout(timer);
      this.forced.signal.removeEventListener("abort", wake);
    }
    if (this.runs.size > 0) {
      logger.warn({ running: this.jobs.size }, "stopping the jobs still running");
      this.abortAll({ kind: "Shutdown", message: "Cancelled: agent shut down" });
      this.giveUpAfter(LEAVING_GRACE_MS);
    }
    // Jobs started while drain began keep arriving in runs; wait for each to complete.
    const forcedLater = () => this.abortAll({ kind: "Shutdown", message: "Cancelled: agent shut down" });
    this.forced.signal.addEventListener("abort", forcedLater, { once: true });
    await this.allRunsSettled();
    if (this.exiting) return;
    // No periodic heartbeat may follow the leaving one (the server would show the agent again).
    this.closing.abort();
    await this.sendHeartbeat(true, 2000);
    await this.finish(0);
  }

  /** Revoked token or a refused registration: stop every job as if cancelled, exit 3. */
  private exitFatal(error: AgentFatalError): void {
    if (this.fatal || this.exiting) return;
    this.fatal = error;
    this.logger.error({ code: error.code }, `exiting: ${error.message}`);
    this.draining = true;
    this.stopPulling();
    this.abortAll({ kind: "Revoked", message: "Cancelled: agent token revoked" });
    this.giveUpAfter(LEAVING_GRACE_MS);
    void this.allRunsSettled().then(() => this.finish(3));
  }

  private giveUpAfter(ms: number): void {
    setTimeout(() => this.giveUpController.abort(), ms).unref();
  }

  private async finish(code: number): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    this.draining = true;
    this.stopPulling();
    this.closing.abort();
    this.giveUpController.abort();
    await this.allRunsSettled();
    for (const sub of this.cancelSubscriptions.values()) sub.unsubscribe();
    if (!this.nc.isClosed()) {
      await withTimeout(this.nc.drain(), 5000, "NATS drain").catch(() => this.nc.close());
    }
    this.logger.info({ exitCode: code }, "agent stopped");
    this.resolveDone(code);
  }
}
