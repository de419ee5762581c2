/**
 * A complete custom job worker for the action type `Build/Custom/WordCount@1`, built only on
 * @sluice/protocol and nats.js: no @sluice/agent. It counts the words, lines and characters of the
 * `Text` configuration key and reports them as output variables. It follows the checklist of
 * PROTOCOL.md section 12; read it side by side with that page (and agent/README.md).
 *
 *   NATS_URL=nats://127.0.0.1:4222 SLUICE_AGENT_TOKEN=sat_... npx ts-node examples/custom-worker.ts
 *
 * One job at a time; no artifacts (see the agent's runtime for those). Errors of NATS itself are
 * retried; anything the protocol calls fatal ends the worker.
 */
import os from "node:os";
import { jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  PROTOCOL_VERSION,
  TIMINGS,
  decode,
  encode,
  jobConsumerConfig,
  msgIds,
  natsNames,
  type ActionTypeId,
  type JobMessage,
  type MessageInput,
} from "@sluice/protocol";

export const WORD_COUNT: ActionTypeId = {
  category: "Build",
  owner: "Custom",
  provider: "WordCount",
  version: "1",
};

export interface WorkerOptions {
  natsUrl: string;
  token: string;
  prefix?: string;
  name?: string;
  pool?: string;
  /** Aborting it stops the worker after the job in hand. */
  signal?: AbortSignal;
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs until `signal` aborts; rejects with the server's message on a fatal refusal. */
export async function runWordCountWorker(options: WorkerOptions): Promise<void> {
  const say = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const names = natsNames(options.prefix ?? "sluice");
  const pool = options.pool ?? "default";
  const name = options.name ?? os.hostname().replace(/[^A-Za-z0-9.@_-]/g, "-");
  const nc: NatsConnection = await connect({ servers: options.natsUrl, maxReconnectAttempts: -1 });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);

  // Step 2: register (5.7). Retry while nobody answers or the server is Unavailable; stop otherwise.
  const register = async (): Promise<{ agentId: string; heartbeatIntervalSeconds: number }> => {
    const request = encode("registerRequest", {
      protocolVersion: PROTOCOL_VERSION,
      token: options.token,
      name,
      pool,
      providers: [WORD_COUNT],
      version: "example-1",
      capacity: 1,
    });
    for (let delay = 250; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        const reply = await nc.request(names.subjects.register, request, {
          timeout: TIMINGS.registerTimeoutMs,
        });
        const answer = decode("registerReply", reply.data);
        if (answer.ok) {
          const registered = answer.message;
          if (registered.ok) return registered;
          if (registered.code !== "Unavailable") {
            throw new Error(`registration refused (${registered.code}): ${registered.error}`);
          }
        }
      } catch (error) {
        if ((error as Error).message.startsWith("registration refused")) throw error;
      }
      await sleep(delay);
    }
  };
  let registration: { agentId: string; heartbeatIntervalSeconds: number };
  try {
    registration = await register();
  } catch (error) {
    await nc.close();
    throw error;
  }
  const { agentId } = registration;
  say(`registered as ${agentId}`);

  // Step 3: the cancel fast path, and agent heartbeats sent as requests (5.8).
  let current: { job: JobMessage; cancelled: string | null } | null = null;
  nc.subscribe(names.subjects.agentCancel(agentId), {
    callback: (_err, msg) => {
      const cancel = decode("cancel", msg.data);
      if (
        cancel.ok &&
        current?.job.jobId === cancel.message.jobId &&
        current.job.attempt === cancel.message.attempt
      ) {
        current.cancelled = cancel.message.reason;
      }
    },
  });
  let fatal: Error | null = null;
  const beat = setInterval(() => {
    const running = current ? [{ jobId: current.job.jobId, attempt: current.job.attempt }] : [];
    const heartbeat = encode("agentHeartbeat", { agentId, at: new Date().toISOString(), running });
    nc.request(names.subjects.agentHeartbeat, heartbeat, { timeout: 5000 }).then(
      (reply) => {
        const answer = decode("agentHeartbeatReply", reply.data);
        if (answer.ok && !answer.message.ok) {
          if (answer.message.code === "UnknownAgent") void register();
          else fatal = new Error(`${answer.message.code}: ${answer.message.error}`);
        }
      },
      () => undefined, // no reply: keep going, the job heartbeats guard the lease
    );
  }, registration.heartbeatIntervalSeconds * 1000);

  // Step 4: pull from the consumer of this pool and type, one job at a time.
  const durable = jobConsumerConfig(names.prefix, pool, WORD_COUNT).durable_name;
  const consumer = await js.consumers.get(names.streams.jobs, durable);
  try {
    while (!options.signal?.aborted && !fatal) {
      const msg = await consumer.next({ expires: 2000 }).catch(() => null);
      if (!msg) continue;
      await handle(msg);
    }
  } finally {
    clearInterval(beat);
    await nc.drain();
  }
  if (fatal) throw fatal;

  // Step 5: one job.
  async function handle(msg: JsMsg): Promise<void> {
    const decoded = decode("job", msg.data, msg.subject);
    if (!decoded.ok) {
      // Newer version: maybe another worker reads it. Anything else: nobody will (section 2).
      if (decoded.error.reason === "IncompatibleVersion" && (decoded.error.version ?? 0) > PROTOCOL_VERSION) {
        msg.nak(TIMINGS.newerVersionNakDelayMs);
      } else msg.term();
      say(decoded.error.message);
      return;
    }
    const job = decoded.message;
    const cancelledNow = async () => {
      const last = await jsm.direct.getMessage(names.streams.cancel, {
        last_by_subj: names.subjects.cancel(job.jobId),
      });
      const cancel = last ? decode("cancel", last.data) : null;
      return cancel?.ok && cancel.message.attempt === job.attempt ? cancel.message.reason : null;
    };
    if (await cancelledNow()) return msg.ack(); // cancelled while queued: drop it

    const accept: MessageInput<"accept"> = {
      protocolVersion: PROTOCOL_VERSION,
      jobId: job.jobId,
      attempt: job.attempt,
      leaseToken: job.leaseToken, // proves the accept is this job's (PROTOCOL.md 6.2)
      agent: { id: agentId, name, version: "example-1" },
      startedAt: new Date().toISOString(),
    };
    try {
      const stored = await js.publish(names.subjects.accept, encode("accept", accept), {
        msgID: msgIds.accept(job.jobId, job.attempt),
      });
      // An accept of this attempt was stored already: it was delivered before (NATS lost its +ACK)
      // and someone runs it. One try only here, so a duplicate is never our own (PROTOCOL.md 6.5).
      if (stored.duplicate) return msg.ack();
    } catch {
      return msg.nak(); // not accepted: back to the queue
    }
    msg.ack();
    current = { job, cancelled: null };

    // Job heartbeats: at once, then every interval, each also re-reading the cancel subject.
    const heartbeat = async () => {
      const at = new Date().toISOString();
      await js
        .publish(
          names.subjects.heartbeat,
          encode("heartbeat", {
            jobId: job.jobId,
            attempt: job.attempt,
            leaseToken: job.leaseToken,
            agentId,
            at,
          }),
        )
        .catch(() => undefined);
      const reason = await cancelledNow().catch(() => null);
      if (reason && current) current.cancelled = reason;
    };
    await heartbeat();
    const timer = setInterval(() => void heartbeat(), job.heartbeatIntervalSeconds * 1000);

    // The work itself, and its log (one chunk here: the text is small).
    const text = job.configuration.Text ?? "";
    const counts = {
      Words: String(text.split(/\s+/).filter((w) => w.length > 0).length),
      Lines: String(text === "" ? 0 : text.split("\n").length),
      Characters: String([...text].length),
    };
    let sequence = 0;
    const log = async (stream: "stdout" | "system", line: string) => {
      sequence += 1;
      const chunk = {
        jobId: job.jobId,
        attempt: job.attempt,
        sequence,
        at: new Date().toISOString(),
        stream,
        text: `${line}\n`,
      };
      await js.publish(names.subjects.log(job.jobId), encode("logChunk", chunk), {
        msgID: msgIds.logChunk(job.jobId, job.attempt, sequence),
      });
    };
    await log("system", `WordCount on ${name}`);
    await log("stdout", `${counts.Words} words, ${counts.Lines} lines, ${counts.Characters} characters`);

    const cancelled = current.cancelled;
    const complete: MessageInput<"complete"> = cancelled
      ? {
          jobId: job.jobId,
          attempt: job.attempt,
          leaseToken: job.leaseToken,
          agentId,
          outcome: "Failed",
          failureType: "JobFailed",
          summary: `Cancelled: ${cancelled}`,
          lastLogSequence: sequence,
          finishedAt: new Date().toISOString(),
        }
      : {
          jobId: job.jobId,
          attempt: job.attempt,
          leaseToken: job.leaseToken,
          agentId,
          outcome: "Succeeded",
          summary: `${counts.Words} words`,
          outputVariables: counts,
          lastLogSequence: sequence,
          finishedAt: new Date().toISOString(),
        };
    // Retry with the same id until stored: the stream drops the duplicates.
    for (;;) {
      try {
        await js.publish(names.subjects.complete, encode("complete", complete), {
          msgID: msgIds.complete(job.jobId, job.attempt, agentId),
        });
        break;
      } catch {
        await sleep(500);
      }
    }
    clearInterval(timer);
    current = null;
  }
}

if (require.main === module) {
  const stop = new AbortController();
  process.on("SIGTERM", () => stop.abort());
  process.on("SIGINT", () => stop.abort());
  runWordCountWorker({
    natsUrl: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
    token: process.env.SLUICE_AGENT_TOKEN ?? "",
    prefix: process.env.SLUICE_NATS_PREFIX,
    pool: process.env.SLUICE_AGENT_POOL,
    signal: stop.signal,
  }).catch((error: Error) => {
    process.stderr.write(`custom-worker: ${error.message}\n`);
    process.exit(3);
  });
}
