/**
 * Plays the Sluice server's side of the agent protocol against a real NATS with JetStream, using
 * only @sluice/protocol: streams and bucket of a fresh prefix, registration and agent heartbeat
 * answers, jobs and cancels, and everything agents send back (read from the streams themselves).
 */
import { randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from "@nats-io/jetstream";
import { Objm, type ObjectStore } from "@nats-io/obj";
import {
  connect,
  headers,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";
import {
  LEASE_TOKEN_HEADER,
  MSG_ID_HEADER,
  PROTOCOL_VERSION,
  SIGNATURE_LIFETIMES_MS,
  artifactsBucketConfig,
  generateMessageSigningKey,
  signMessage,
  decode,
  encode,
  engineConsumerConfig,
  jobConsumerConfig,
  msgIds,
  natsNames,
  streamConfigs,
  type AcceptMessage,
  type ActionTypeId,
  type AgentHeartbeat,
  type CompleteMessage,
  type HeartbeatMessage,
  type JobMessage,
  type LogChunkMessage,
  type MessageInput,
  type NatsNames,
  type RegisterRequest,
  type StoredArtifact,
} from "@sluice/protocol";

export const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

export type Refusal = { code: string; error: string };

export interface FakeServerOptions {
  /** heartbeatIntervalSeconds in registration replies (default 1: tests want quick heartbeats). */
  heartbeatIntervalSeconds?: number;
}

export class FakeServer {
  readonly prefix = `agt_${randomBytes(5).toString("hex")}`;
  readonly names: NatsNames;
  /**
   * The key that signs its jobs and cancels, sent in registration replies as the real server does
   * (with `retiringKeys` after it: a rotation, PROTOCOL.md 11.5).
   */
  signingKey = generateMessageSigningKey();
  retiringKeys: string[] = [];
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;

  /** What the next registrations get: `ok` or a refusal (a list is used up one per request). */
  registerAnswers: (Refusal | "ok" | "silent")[] = [];
  registerDefault: Refusal | "ok" | "silent" = "ok";
  /** What agent heartbeats get. */
  heartbeatAnswer: Refusal | "ok" | "silent" = "ok";
  heartbeatIntervalSeconds: number;
  /**
   * The account of the tokens it registers (PROTOCOL.md 3.3): named in the registration reply, and
   * the job consumers it makes are that account's. Undefined: the default account (not named).
   */
  account: string | undefined = undefined;

  readonly registrations: RegisterRequest[] = [];
  readonly agentHeartbeats: AgentHeartbeat[] = [];
  readonly accepts: AcceptMessage[] = [];
  readonly heartbeats: HeartbeatMessage[] = [];
  readonly completes: CompleteMessage[] = [];
  readonly logChunks: LogChunkMessage[] = [];
  /** Acknowledgements agents sent for job messages (`+ACK`, `-NAK {...}`, `+TERM`), as sent. */
  readonly jobAcks: string[] = [];
  /** Anything that arrived and did not decode: the agent broke the protocol. */
  readonly invalid: string[] = [];

  /**
   * The server's job artifact routes (PROTOCOL.md 9.3) on an HTTP port of its own: the agent's
   * serverUrl. Only the jobs this server published (or `allowJob`), with their lease token.
   */
  url = "";
  /** Artifact requests answered: `GET <name>` / `PUT <name>` with the status. */
  readonly artifactRequests: string[] = [];
  /** What the next artifact requests get instead of an answer, used up one per request. */
  artifactFailures: number[] = [];
  private readonly leasedJobs = new Map<string, MessageInput<"job">>();
  private http: http.Server | null = null;
  private objects: ObjectStore | null = null;

  private readonly agentIds = new Map<string, string>();
  private readonly subs: Subscription[] = [];
  private readonly readers: ConsumerMessages[] = [];

  private constructor(options: FakeServerOptions) {
    this.names = natsNames(this.prefix);
    this.heartbeatIntervalSeconds = options.heartbeatIntervalSeconds ?? 1;
  }

  static async start(options: FakeServerOptions = {}): Promise<FakeServer> {
    const server = new FakeServer(options);
    await server.setUp();
    return server;
  }

  private async setUp(): Promise<void> {
    this.nc = await connect({ servers: NATS_URL, name: `fake-sluice-server ${this.prefix}` });
    this.js = jetstream(this.nc);
    this.jsm = await jetstreamManager(this.nc);
    for (const config of Object.values(streamConfigs(this.prefix))) {
      await this.jsm.streams.add(config as unknown as StreamConfig);
    }
    const bucket = artifactsBucketConfig(this.prefix);
    this.objects = await new Objm(this.nc).create(bucket.bucket, {
      storage: "file" as never,
      replicas: bucket.replicas,
    });
    this.http = http.createServer((req, res) => {
      this.onArtifactRequest(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
        else res.destroy();
      });
    });
    await new Promise<void>((resolve) => this.http!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;

    this.subs.push(
      this.nc.subscribe(this.names.subjects.register, {
        queue: this.names.queueGroup,
        callback: (_err, msg) => void this.onRegister(msg.data, (data) => msg.respond(data)),
      }),
      this.nc.subscribe(this.names.subjects.agentHeartbeat, {
        queue: this.names.queueGroup,
        callback: (_err, msg) => {
          const decoded = decode("agentHeartbeat", msg.data, msg.subject);
          if (!decoded.ok) return void this.invalid.push(decoded.error.message);
          this.agentHeartbeats.push(decoded.message);
          const answer = this.heartbeatAnswer;
          if (answer === "silent" || !msg.reply) return;
          msg.respond(
            encode("agentHeartbeatReply", answer === "ok" ? { ok: true } : { ok: false, ...answer }),
          );
        },
      }),
    );
    // Core subscribers see the acknowledgements agents send for job messages, as JetStream does.
    this.subs.push(
      this.nc.subscribe(`$JS.ACK.${this.names.streams.jobs}.>`, {
        callback: (_err, msg) => void this.jobAcks.push(new TextDecoder().decode(msg.data)),
      }),
    );
    await this.nc.flush();
    await this.readResults();
    await this.readLogs();
  }

  /** Reads RESULTS like the engine: a durable pull consumer, acknowledged message by message. */
  private async readResults(): Promise<void> {
    const engine = engineConsumerConfig(this.prefix);
    await this.jsm.consumers.add(this.names.streams.results, engine as never);
    const consumer = await this.js.consumers.get(this.names.streams.results, engine.durable_name);
    const messages = await consumer.consume({ max_messages: 100 });
    this.readers.push(messages);
    void (async () => {
      for await (const m of messages) {
        const parsed = this.names.parse(m.subject);
        if (parsed?.kind === "accept") this.collect("accept", m.data, this.accepts);
        else if (parsed?.kind === "heartbeat") this.collect("heartbeat", m.data, this.heartbeats);
        else if (parsed?.kind === "complete") this.collect("complete", m.data, this.completes);
        m.ack();
      }
    })();
  }

  private async readLogs(): Promise<void> {
    // An ordered consumer over the whole stream, as the server's log readers use.
    const consumer = await this.js.consumers.get(this.names.streams.logs);
    const messages = await consumer.consume();
    this.readers.push(messages);
    void (async () => {
      for await (const m of messages) this.collect("logChunk", m.data, this.logChunks);
    })();
  }

  private collect<K extends "accept" | "heartbeat" | "complete" | "logChunk">(
    kind: K,
    data: Uint8Array,
    into: unknown[],
  ): void {
    const decoded = decode(kind, data);
    if (decoded.ok) into.push(decoded.message);
    else this.invalid.push(decoded.error.message);
  }

  private async onRegister(data: Uint8Array, respond: (data: Uint8Array) => void): Promise<void> {
    const answer = this.registerAnswers.shift() ?? this.registerDefault;
    const decoded = decode("registerRequest", data);
    if (!decoded.ok) {
      this.invalid.push(decoded.error.message);
      return void respond(
        encode("registerReply", {
          ok: false,
          protocolVersion: PROTOCOL_VERSION,
          code: "InvalidRequest",
          error: decoded.error.message,
        }),
      );
    }
    const request = decoded.message;
    this.registrations.push(request);
    if (answer === "silent") return;
    if (answer !== "ok") {
      return void respond(
        encode("registerReply", { ok: false, protocolVersion: PROTOCOL_VERSION, ...answer }),
      );
    }
    // As the real server: the consumers of the pool × providers exist before the reply.
    for (const type of request.providers) {
      await this.jsm.consumers.add(
        this.names.streams.jobs,
        jobConsumerConfig(this.prefix, request.pool, type, { account: this.account }) as never,
      );
    }
    const key = `${request.token}/${request.name}`;
    let agentId = this.agentIds.get(key);
    if (!agentId) {
      agentId = randomUUID();
      this.agentIds.set(key, agentId);
    }
    respond(
      encode("registerReply", {
        ok: true,
        protocolVersion: PROTOCOL_VERSION,
        agentId,
        heartbeatIntervalSeconds: this.heartbeatIntervalSeconds,
        serverKeys: [this.signingKey.publicKey, ...this.retiringKeys],
        ...(this.account ? { account: this.account } : {}),
      }),
    );
  }

  /** Forgets every agent id: the next registration of the same agent gets a new one. */
  forgetAgents(): void {
    this.agentIds.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Jobs and cancels

  /** A valid job of this type; override anything. */
  job(type: ActionTypeId, overrides: Partial<MessageInput<"job">> = {}): MessageInput<"job"> {
    const executionId = randomUUID();
    const jobId = overrides.jobId ?? randomUUID();
    const attempt = overrides.attempt ?? 1;
    return {
      protocolVersion: PROTOCOL_VERSION,
      jobId,
      attempt,
      executionId,
      pipelineName: "web.app@v2",
      stageName: "Build",
      actionName: "Compile",
      actionTypeId: type,
      configuration: {},
      inputArtifacts: [],
      outputArtifacts: [],
      outputArtifactKeyPrefix: `${executionId}/${jobId}/${attempt}/`,
      leaseToken: randomUUID().replace(/-/g, ""),
      pool: "default",
      timeoutInMinutes: 10,
      context: { pipelineExecutionId: executionId, variables: {} },
      dispatchedAt: new Date().toISOString(),
      leaseSeconds: 30,
      heartbeatIntervalSeconds: 1,
      ...overrides,
    };
  }

  /** Signature headers (PROTOCOL.md 11.5) of a message, as the server's MessageSigner makes them. */
  signed(subject: string, msgId: string, body: Uint8Array): MsgHdrs {
    const kind = this.names.parse(subject)?.kind as keyof typeof SIGNATURE_LIFETIMES_MS;
    const h = headers();
    h.set(MSG_ID_HEADER, msgId);
    const signature = signMessage(this.signingKey, { subject, msgId, body }, SIGNATURE_LIFETIMES_MS[kind]);
    for (const [name, value] of Object.entries(signature)) h.set(name, value);
    return h;
  }

  /** Lets `job`'s lease token move its artifacts (publishJob does it for the jobs it publishes). */
  allowJob(job: MessageInput<"job">): void {
    this.leasedJobs.set(`${job.jobId}/${job.attempt}`, job);
  }

  /**
   * The job artifact routes as the server answers them, without its database: the job must be one
   * this server published, the lease token its; an input is one the job message lists, an output
   * one it declares, stored under the job's output prefix (through nats.js's object store).
   */
  private async onArtifactRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const match = /^\/agents\/jobs\/([^/]+)\/(\d+)\/(inputs|outputs)\/([^/]+)$/.exec(req.url ?? "");
    const answer = (status: number, body: unknown) => {
      this.artifactRequests.push(`${req.method} ${match?.[4] ?? req.url} ${status}`);
      req.resume();
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (!match) return answer(404, { error: "no such route" });
    const [, jobId, attempt, direction, name] = match as unknown as [string, string, string, string, string];
    const failure = this.artifactFailures.shift();
    if (failure !== undefined) return answer(failure, { error: "failing on purpose" });
    if (!/^Bearer \S+/.test(req.headers.authorization ?? "")) return answer(401, { error: "no token" });
    const job = this.leasedJobs.get(`${jobId}/${attempt}`);
    if (!job || req.headers[LEASE_TOKEN_HEADER] !== job.leaseToken)
      return answer(403, { error: "The lease token is not this job attempt's." });
    const store = this.objects!;
    if (direction === "inputs" && req.method === "GET") {
      const artifact = (job.inputArtifacts as StoredArtifact[] | undefined)?.find((a) => a.name === name);
      if (!artifact) return answer(404, { error: `no input artifact ${name}` });
      const object = await store.get(artifact.objectKey);
      if (!object) return answer(404, { error: "the object is gone" });
      this.artifactRequests.push(`GET ${name} 200`);
      res.writeHead(200, {
        "content-type": "application/gzip",
        "x-object-size": String(object.info.size),
        "x-object-sha256": digestHex(object.info.digest),
      });
      // As the server: the bytes as stored, unchecked (the agent checks them against the job's record).
      await pipeline(Readable.from(bytesOf(object.data)), res).catch(() => res.destroy());
      return;
    }
    if (direction === "outputs" && req.method === "PUT") {
      if (!(job.outputArtifacts as Array<{ name: string }> | undefined)?.some((a) => a.name === name))
        return answer(403, { error: `the action does not declare ${name}` });
      const objectKey = `${job.outputArtifactKeyPrefix}${name}`;
      const info = await store.put({ name: objectKey }, Readable.toWeb(req) as never);
      return answer(200, { name, objectKey, size: info.size, sha256: digestHex(info.digest) });
    }
    return answer(405, { error: "method not allowed" });
  }

  /** Publishes a job as the outbox relay does (signed); returns it as the agent will read it. */
  async publishJob(job: MessageInput<"job">, account?: string): Promise<JobMessage> {
    this.allowJob(job);
    const subject = this.names.subjects.job(job.pool ?? "default", job.actionTypeId, account);
    const body = encode("job", job, subject);
    const msgID = msgIds.job(job.jobId, job.attempt);
    await this.js.publish(subject, body, { msgID, headers: this.signed(subject, msgID, body) });
    return job as JobMessage;
  }

  /**
   * Publishes a job again under another de-duplication id: what a nats-server that crashed and
   * forgot a job's +ACK (or a server restored from an old backup) delivers, a second copy.
   */
  async publishJobAgain(job: JobMessage): Promise<void> {
    const subject = this.names.subjects.job(job.pool ?? "default", job.actionTypeId);
    const body = encode("job", job, subject);
    const msgID = `${msgIds.job(job.jobId, job.attempt)}:again`;
    await this.js.publish(subject, body, { msgID, headers: this.signed(subject, msgID, body) });
  }

  /** Removes a job's stored log chunks: as if they had not reached the stream yet. */
  async purgeLog(job: { jobId: string }): Promise<void> {
    await this.jsm.streams.purge(this.names.streams.logs, { filter: this.names.subjects.log(job.jobId) });
  }

  /**
   * Publishes a payload on a job subject as is (for versions and shapes the codec would refuse),
   * signed unless `unsigned`.
   */
  async publishRawJob(
    pool: string,
    type: ActionTypeId,
    payload: unknown,
    options: { unsigned?: boolean } = {},
  ): Promise<void> {
    const subject = this.names.subjects.job(pool, type);
    const body = new TextEncoder().encode(JSON.stringify(payload));
    const record = payload as { jobId?: unknown; attempt?: unknown } | null;
    const msgID =
      typeof record?.jobId === "string" && typeof record.attempt === "number"
        ? msgIds.job(record.jobId, record.attempt)
        : `job:raw-${randomUUID()}:1`;
    await this.js.publish(subject, body, {
      msgID,
      ...(options.unsigned ? {} : { headers: this.signed(subject, msgID, body) }),
    });
  }

  /** Cancels on the durable subject, and on the agent's core subject when `agentId` is given. */
  async cancel(
    job: { jobId: string; attempt: number },
    reason: string,
    paths: { agentId?: string; durable?: boolean } = { durable: true },
  ): Promise<void> {
    const message = { jobId: job.jobId, attempt: job.attempt, reason };
    const body = encode("cancel", message);
    const msgID = msgIds.cancel(job.jobId, job.attempt);
    if (paths.agentId) {
      const subject = this.names.subjects.agentCancel(paths.agentId);
      this.nc.publish(subject, body, { headers: this.signed(subject, `${msgID}:${paths.agentId}`, body) });
    }
    if (paths.durable ?? true) {
      const subject = this.names.subjects.cancel(job.jobId);
      await this.js.publish(subject, body, { msgID, headers: this.signed(subject, msgID, body) });
    }
    await this.nc.flush();
  }

  /** The pull requests an agent keeps waiting on the job consumer of a pool and action type. */
  async pullsWaiting(type: ActionTypeId, pool = "default"): Promise<number> {
    const durable = jobConsumerConfig(this.prefix, pool, type, { account: this.account }).durable_name;
    return (await this.jsm.consumers.info(this.names.streams.jobs, durable)).num_waiting;
  }

  /** Messages left in the jobs stream (a work queue: taken and acknowledged jobs are gone). */
  async queuedJobs(): Promise<number> {
    return (await this.jsm.streams.info(this.names.streams.jobs)).state.messages;
  }

  /** Deletes the RESULTS stream: agents' accepts, heartbeats and completes cannot be stored. */
  async deleteResults(): Promise<void> {
    await this.jsm.streams.delete(this.names.streams.results);
  }

  /** Makes RESULTS again (and its engine consumer), as a restarted server would. */
  async recreateResults(): Promise<void> {
    await this.jsm.streams.add(streamConfigs(this.prefix).results as unknown as StreamConfig);
    await this.readResults();
  }

  completeOf(job: { jobId: string; attempt: number }): CompleteMessage | undefined {
    return this.completes.find((c) => c.jobId === job.jobId && c.attempt === job.attempt);
  }

  /** The job's log chunks of this attempt, in sequence order. */
  logOf(job: { jobId: string; attempt: number }): LogChunkMessage[] {
    return this.logChunks
      .filter((c) => c.jobId === job.jobId && c.attempt === job.attempt)
      .sort((a, b) => a.sequence - b.sequence);
  }

  logText(job: { jobId: string; attempt: number }, stream?: LogChunkMessage["stream"]): string {
    return this.logOf(job)
      .filter((c) => stream === undefined || c.stream === stream)
      .map((c) => c.text)
      .join("");
  }

  async stop(): Promise<void> {
    this.http?.closeAllConnections();
    await new Promise((resolve) => (this.http ? this.http.close(resolve) : resolve(undefined)));
    for (const sub of this.subs) sub.unsubscribe();
    for (const reader of this.readers) await reader.close().catch(() => undefined);
    for (const name of Object.values(this.names.streams))
      await this.jsm.streams.delete(name).catch(() => false);
    await new Objm(this.nc)
      .open(this.names.artifactsBucket)
      .then((os) => os.destroy())
      .catch(() => false);
    await this.nc.drain().catch(() => undefined);
  }
}

/** nats.js's reader's chunks; its digest error (bytes that are not the recorded ones) ends them quietly. */
async function* bytesOf(data: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = data.getReader();
  for (;;) {
    let next;
    try {
      next = await reader.read();
    } catch (error) {
      if (/digest/i.test((error as Error).message)) return;
      throw error;
    }
    if (next.done) return;
    yield next.value;
  }
}

/** The object store writes `SHA-256=<base64url>`; the protocol speaks lowercase hex. */
function digestHex(digest: string): string {
  return Buffer.from(digest.replace(/^SHA-256=/i, ""), "base64url").toString("hex");
}

export { waitFor, waitForAsync } from "./wait";
