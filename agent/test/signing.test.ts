/**
 * Signed server messages (PROTOCOL.md 11.5) against a real NATS: the agent runs only jobs the
 * server signed for that subject, id and payload, within their window, by a key it trusts; it
 * terminates every other one without running or reporting it, and ignores cancels likewise.
 */
import { headers } from "@nats-io/transport-node";
import pino from "pino";
import {
  MSG_ID_HEADER,
  encode,
  generateMessageSigningKey,
  msgIds,
  signMessage,
  type JobMessage,
  type MessageSigningKey,
} from "@sluice/protocol";
import type { RunningAgent } from "../src/runtime/start";
import { startTestAgent, stopAgent } from "./support/agents";
import { FakeServer, waitFor } from "./support/fake-server";
import { fnProvider, sleepProvider, type, type SleepRecord } from "./support/test-providers";

let server: FakeServer;
let agent: RunningAgent | undefined;
const warnings: Array<{ msg: string; subject?: string; reason?: string; seen?: boolean }> = [];
const logger = pino({ level: "warn" }, { write: (line: string) => void warnings.push(JSON.parse(line)) });

beforeAll(async () => {
  server = await FakeServer.start();
});
afterEach(async () => {
  await stopAgent(agent);
  agent = undefined;
});
afterAll(async () => {
  await server?.stop();
});

const TYPE = type("Signed");
const ran: string[] = [];
const provider = fnProvider(TYPE, async (context) => {
  ran.push(context.job.jobId);
  return { outcome: "Succeeded", summary: "ran" };
});

/** Publishes `job` on its subject with headers signed over `signedAs` (default: exactly it). */
async function publishWith(
  job: JobMessage,
  signedAs: {
    subject?: string;
    msgId?: string;
    body?: Uint8Array;
    key?: MessageSigningKey;
    now?: number;
    lifetimeMs?: number;
  } = {},
): Promise<void> {
  const subject = server.names.subjects.job(job.pool, job.actionTypeId);
  const body = encode("job", job, subject);
  const msgId = msgIds.job(job.jobId, job.attempt);
  const h = headers();
  h.set(MSG_ID_HEADER, msgId);
  const signature = signMessage(
    signedAs.key ?? server.signingKey,
    { subject: signedAs.subject ?? subject, msgId: signedAs.msgId ?? msgId, body: signedAs.body ?? body },
    signedAs.lifetimeMs ?? 3_600_000,
    signedAs.now,
  );
  for (const [name, value] of Object.entries(signature)) h.set(name, value);
  await server.js.publish(subject, body, { msgID: msgId, headers: h });
}

const terms = () => server.jobAcks.filter((a) => a.startsWith("+TERM")).length;
/** The +TERMs sent for job messages so far, counting those this test expects. */
let termsExpected = 0;
beforeEach(() => {
  termsExpected = terms();
});

/** Waits for the agent's warning about `job` and its +TERM; the job never ran, nothing was reported. */
async function expectRefused(job: JobMessage, reason: string): Promise<void> {
  const subject = server.names.subjects.job(job.pool, job.actionTypeId);
  const warning = await waitFor(`the refusal of ${job.jobId}`, () =>
    warnings.find((w) => w.msg === "refusing a job the server did not sign" && !w.seen),
  );
  warning.seen = true;
  expect(warning).toMatchObject({ subject, reason });
  termsExpected += 1;
  await waitFor(`the +TERM of ${job.jobId}`, () => terms() >= termsExpected);
  expect(ran).not.toContain(job.jobId);
  expect(server.accepts.map((a) => a.jobId)).not.toContain(job.jobId);
  expect(server.completes.map((c) => c.jobId)).not.toContain(job.jobId);
}

describe("jobs", () => {
  it("runs a signed job, and refuses (+TERM, nothing run or reported) every job that is not", async () => {
    agent = await startTestAgent(server, [provider], {}, { logger });
    const job = () => server.job(TYPE, { configuration: {} }) as JobMessage;

    const good = await server.publishJob(job());
    await waitFor("the signed job", () => server.completes.find((c) => c.jobId === good.jobId));
    expect(ran).toContain(good.jobId);

    const unsigned = job();
    await server.publishRawJob("default", TYPE, unsigned, { unsigned: true });
    await expectRefused(unsigned, "Unsigned");

    const otherKey = job();
    await publishWith(otherKey, { key: generateMessageSigningKey() });
    await expectRefused(otherKey, "UnknownKey");

    const otherSubject = job();
    await publishWith(otherSubject, { subject: server.names.subjects.job("another-pool", TYPE) });
    await expectRefused(otherSubject, "BadSignature");

    const tampered = job();
    await publishWith(tampered, { body: encode("job", { ...tampered, configuration: { Commands: "id" } }) });
    await expectRefused(tampered, "BadSignature");

    const otherId = job();
    await publishWith(otherId, { msgId: msgIds.job(good.jobId, 1) });
    await expectRefused(otherId, "BadSignature");

    const expired = job();
    await publishWith(expired, { now: Date.now() - 2 * 86_400_000, lifetimeMs: 86_400_000 });
    await expectRefused(expired, "Expired");

    // Still taking jobs after all that.
    const after = await server.publishJob(job());
    await waitFor("a signed job after the refusals", () =>
      server.completes.find((c) => c.jobId === after.jobId),
    );
  });

  it("with --server-key, trusts only the pinned keys, whatever the server says", async () => {
    const pinned = generateMessageSigningKey();
    agent = await startTestAgent(server, [provider], { serverKeys: [pinned.publicKey] }, { logger });
    const fromServer = server.job(TYPE) as JobMessage;
    await server.publishJob(fromServer);
    await expectRefused(fromServer, "UnknownKey");
    const byPinned = server.job(TYPE) as JobMessage;
    await publishWith(byPinned, { key: pinned });
    await waitFor("the job signed by the pinned key", () =>
      server.completes.find((c) => c.jobId === byPinned.jobId),
    );
  });

  it("without NATS credentials, registers again to learn a key the server rotated in, and still runs the old key's jobs it lists", async () => {
    agent = await startTestAgent(server, [provider], {}, { logger });
    const registered = server.registrations.length;
    const old = server.signingKey;
    try {
      // The server rotates: a new key signs, the old one is still listed.
      server.signingKey = generateMessageSigningKey();
      server.retiringKeys = [old.publicKey];
      const byNew = await server.publishJob(server.job(TYPE) as JobMessage);
      await waitFor("the job signed by the new key", () =>
        server.completes.find((c) => c.jobId === byNew.jobId),
      );
      expect(server.registrations.length).toBeGreaterThan(registered);
      const byOld = server.job(TYPE) as JobMessage;
      await publishWith(byOld, { key: old });
      await waitFor("the job signed by the old key", () =>
        server.completes.find((c) => c.jobId === byOld.jobId),
      );
    } finally {
      server.signingKey = old;
      server.retiringKeys = [];
    }
  });
});

describe("cancels", () => {
  it("ignores an unsigned cancel on either path and obeys the signed one", async () => {
    const records: SleepRecord[] = [];
    const sleeper = sleepProvider(type("SignedSleep"), records);
    agent = await startTestAgent(server, [sleeper], {}, { logger });
    const job = await server.publishJob(server.job(sleeper.id, { configuration: { Seconds: "30" } }));
    await waitFor("the job to start", () => records.find((r) => r.jobId === job.jobId));
    const agentId = (await waitFor("the accept", () => server.accepts.find((a) => a.jobId === job.jobId)))
      .agent.id;
    const body = encode("cancel", { jobId: job.jobId, attempt: job.attempt, reason: "Forged" });

    // Core path, unsigned: logged and ignored.
    server.nc.publish(server.names.subjects.agentCancel(agentId), body);
    await waitFor("the core cancel ignored", () =>
      warnings.find(
        (w) =>
          w.msg === "ignoring a cancel the server did not sign" &&
          w.subject === server.names.subjects.agentCancel(agentId),
      ),
    );
    // Durable path, unsigned: read with the next job heartbeat, logged and ignored.
    await server.js.publish(server.names.subjects.cancel(job.jobId), body, { msgID: `forged-${job.jobId}` });
    await waitFor("the durable cancel ignored", () =>
      warnings.find(
        (w) =>
          w.msg === "ignoring a cancel the server did not sign" &&
          w.subject === server.names.subjects.cancel(job.jobId),
      ),
    );
    expect(server.completes.find((c) => c.jobId === job.jobId)).toBeUndefined();

    await server.cancel(job, "Abandoned", { agentId, durable: false });
    const complete = await waitFor("the cancelled complete", () =>
      server.completes.find((c) => c.jobId === job.jobId),
    );
    expect(complete.summary).toBe("Cancelled: Abandoned");
  });
});
