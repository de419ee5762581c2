/**
 * The outbox's two ways out (messaging/outbox-relay.ts): rows a commit wrote are published at once
 * and deleted; rows left behind (a copy that died between its commit and its publish) are found by
 * the relay's poll once they are old; while NATS is away, commits wait in the outbox and leave in
 * their order when it is back. Real PostgreSQL and NATS; the relay's own NATS link is closed to
 * make NATS "away" for it alone.
 */
import crypto from "node:crypto";
import os from "node:os";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ProtocolError, decode, msgIds, natsNames, verifyMessage } from "@sluice/protocol";
import type { DataSource } from "typeorm";
import { createLogger } from "../../src/logger";
import { ensureJetStream } from "../../src/messaging/jetstream-setup";
import { MessageSigner } from "../../src/messaging/message-signer";
import { NatsLink } from "../../src/messaging/nats";
import { LEFTOVER_AGE_MS, OutboxRelay } from "../../src/messaging/outbox-relay";
import { openDatabase } from "../../src/persistence/data-source";
import { OutboxStore, outboxMessage, type OutboxRow } from "../../src/persistence/outbox-store";
import { MasterKeyring, SecretVault } from "../../src/persistence/secret-vault";
import { SigningKeyStore } from "../../src/persistence/signing-key-store";
import { createTestDatabase, type TestDatabase } from "../support/database";
import { connectNats, deleteStreams, NATS_URL } from "../support/nats";
import { eventually } from "../support/wait";

const prefix = `test_${crypto.randomBytes(4).toString("hex")}`;
const names = natsNames(prefix);
let testDb: TestDatabase;
let db: DataSource;
let nc: NatsConnection;
let signer: MessageSigner;
const relays: Array<{ relay: OutboxRelay; link: NatsLink }> = [];

beforeAll(async () => {
  testDb = await createTestDatabase();
  db = await openDatabase({ url: testDb.url, pgliteDir: "" });
  nc = await connectNats();
  await ensureJetStream(nc, prefix);
  const keys = new SigningKeyStore(
    db,
    new SecretVault(
      db,
      new MasterKeyring({ keys: crypto.randomBytes(32).toString("base64"), dataDir: os.tmpdir() }),
    ),
  );
  signer = new MessageSigner((await keys.current()).key, keys);
});

afterEach(async () => {
  for (const { relay, link } of relays.splice(0)) {
    await relay.stop();
    await link.close();
  }
});

afterAll(async () => {
  await db?.destroy();
  await testDb?.drop();
  await nc?.close();
  await deleteStreams(prefix);
});

async function startRelay(): Promise<{ relay: OutboxRelay; link: NatsLink }> {
  const link = new NatsLink([NATS_URL], prefix, createLogger("silent"));
  await link.connected();
  const relay = new OutboxRelay(new OutboxStore(db), link, createLogger("silent"), signer);
  relay.start();
  const started = { relay, link };
  relays.push(started);
  return started;
}

/** Pipeline `pipeline`'s event number `sequence` (of one execution) as an outbox message. */
function event(pipeline: string, sequence: number, subject = names.subjects.event(pipeline)) {
  return outboxMessage("pipelineEvent", {
    msgId: `event:${pipeline}:${sequence}`,
    subject,
    payload: {
      pipelineName: pipeline,
      type: "EXECUTION_STARTED",
      executionId: EXECUTION,
      sequence,
      at: new Date().toISOString(),
    },
  });
}

/** A pipeline's definition event (created, updated, deleted): it has no sequence. */
function definition(pipeline: string) {
  return outboxMessage("definitionEvent", {
    msgId: `definition:${pipeline}:1`,
    subject: names.subjects.event(pipeline),
    payload: {
      pipelineName: pipeline,
      type: "PIPELINE_CREATED",
      executionId: null,
      sequence: null,
      at: new Date().toISOString(),
    },
  });
}

function cancel(jobId: string, subject = names.subjects.cancel(jobId)) {
  return outboxMessage("cancel", {
    msgId: msgIds.cancel(jobId, 1),
    subject,
    payload: { jobId, attempt: 1, reason: "Stopped" },
  });
}

const EXECUTION = crypto.randomUUID();

/** Writes event messages for `pipeline` to the outbox in one committed transaction. */
async function commit(pipeline: string, sequences: number[]): Promise<OutboxRow[]> {
  const store = new OutboxStore(db);
  return db.transaction((m) =>
    store.enqueue(
      m,
      sequences.map((sequence) => event(pipeline, sequence)),
    ),
  );
}

/** One committed transaction: a cancel for each job, then an event of `pipeline` (and its definition's). */
async function commitCancelsAndEvent(
  jobIds: string[],
  pipeline: string,
  withDefinition = false,
): Promise<OutboxRow[]> {
  const store = new OutboxStore(db);
  return db.transaction(async (m) => [
    ...(await store.enqueue(
      m,
      jobIds.map((jobId) => cancel(jobId)),
    )),
    ...(await store.enqueue(m, [event(pipeline, 1), ...(withDefinition ? [definition(pipeline)] : [])])),
  ]);
}

/** The sequences the events stream holds for `pipeline`, in stream order (null: a definition event). */
async function published(pipeline: string, names = natsNames(prefix)): Promise<Array<number | null>> {
  const js = jetstream(nc);
  const stream = names.streams.events;
  const consumer = await (
    await jetstreamManager(nc)
  ).consumers.add(stream, {
    filter_subject: names.subjects.event(pipeline),
    inactive_threshold: 5_000_000_000,
  });
  const reader = await js.consumers.get(stream, consumer.name);
  const info = await reader.info();
  const seen: Array<number | null> = [];
  if (info.num_pending === 0) return seen;
  const messages = await reader.fetch({ max_messages: info.num_pending, expires: 2000 });
  for await (const msg of messages) {
    seen.push(msg.json<{ sequence: number | null }>().sequence);
    if (seen.length === info.num_pending) break;
  }
  return seen;
}

async function outboxIds(): Promise<string[]> {
  const rows: Array<{ id: string }> = await db.query(`SELECT id FROM outbox ORDER BY id`);
  return rows.map((r) => String(r.id));
}

it("publishes a commit's jobs, cancels and events at once, without the relay's lock; a definition event waits for the relay", async () => {
  const { relay } = await startRelay();
  // Another copy relaying holds the lock; the direct path does not need it.
  const holder = await db.createQueryRunner();
  await holder.connect();
  await holder.query(`SELECT pg_advisory_lock(736411001)`);
  let released = false;
  try {
    const jobIds = [crypto.randomUUID(), crypto.randomUUID()];
    const rows = await commitCancelsAndEvent(jobIds, "direct", true);
    relay.sendCommitted(rows);
    const jsm = await jetstreamManager(nc);
    for (const jobId of jobIds) {
      await eventually(
        async () =>
          (await jsm.streams
            .getMessage(names.streams.cancel, { last_by_subj: names.subjects.cancel(jobId) })
            .catch(() => null)) ?? undefined,
        10_000,
        "the cancel in its stream",
      );
    }
    // The cancels' and the event's rows are deleted; the definition event's waits for the relay
    // (the lock is held).
    await eventually(async () => (await outboxIds()).length === 1, 10_000, "the direct rows to go");
    expect(await published("direct")).toEqual([1]);
    await holder.query(`SELECT pg_advisory_unlock(736411001)`);
    released = true;
    relay.kick();
    await eventually(async () => (await published("direct")).length === 2, 10_000, "the definition event");
    expect(await published("direct")).toEqual([1, null]);
    await eventually(async () => (await outboxIds()).length === 0, 10_000, "the outbox to empty");
  } finally {
    if (!released) await holder.query(`SELECT pg_advisory_unlock(736411001)`);
    await holder.release();
  }
});

it("the relay, kicked while a commit's rows are on the direct path, leaves them to it: each is published once", async () => {
  const { relay } = await startRelay();
  // A core subscriber sees every publish (the stream's de-duplication would hide a second one).
  const seen = new Map<string, number>();
  const sub = nc.subscribe(names.wildcards.cancel, {
    callback: (_e, msg) => {
      seen.set(msg.subject, (seen.get(msg.subject) ?? 0) + 1);
    },
  });
  try {
    await nc.flush();
    const jobIds = Array.from({ length: 20 }, () => crypto.randomUUID());
    const rows = await commitCancelsAndEvent(jobIds, "once");
    relay.sendCommitted(rows);
    // A relay round (a kick), while the direct publishes are still on their way.
    await relay.relayBatch(0);
    await eventually(async () => (await outboxIds()).length === 0, 10_000, "the outbox to empty");
    await eventually(async () => (await published("once")).length === 1, 10_000, "the event");
    await nc.flush();
    expect(jobIds.map((jobId) => seen.get(names.subjects.cancel(jobId)) ?? 0)).toEqual(jobIds.map(() => 1));
  } finally {
    sub.unsubscribe();
  }
});

it("sends rows a dead copy left behind once they are older than LEFTOVER_AGE_MS, in order", async () => {
  await startRelay();
  // Committed, never handed to a relay: what a copy killed after its commit leaves.
  await commit("leftover", [1, 2]);
  const written = Date.now();
  await eventually(async () => (await published("leftover")).length === 2, 15_000, "the leftovers");
  expect(Date.now() - written).toBeGreaterThanOrEqual(LEFTOVER_AGE_MS - 50);
  expect(await published("leftover")).toEqual([1, 2]);
  await eventually(async () => (await outboxIds()).length === 0, 10_000, "the outbox to empty");
});

it("while NATS is away commits wait in the outbox, and leave in their order when it is back", async () => {
  const away = await startRelay();
  await away.link.close();
  const first = await commit("outage", [1, 2]);
  away.relay.sendCommitted(first);
  const second = await commit("outage", [3]);
  away.relay.sendCommitted(second);
  expect(await outboxIds()).toEqual([...first, ...second].map((r) => r.id));
  // Another copy (NATS reachable) relays what waits, oldest first.
  await startRelay();
  await eventually(async () => (await published("outage")).length === 3, 15_000, "the waiting events");
  expect(await published("outage")).toEqual([1, 2, 3]);
  await eventually(async () => (await outboxIds()).length === 0, 10_000, "the outbox to empty");
});

it("signs what agents obey on the direct path too (PROTOCOL.md 11.5)", async () => {
  const { relay } = await startRelay();
  const jobId = crypto.randomUUID();
  const subject = names.subjects.cancel(jobId);
  const rows = await db.transaction((m) => new OutboxStore(db).enqueue(m, [cancel(jobId)]));
  relay.sendCommitted(rows);
  const jsm = await jetstreamManager(nc);
  const stored = await eventually(
    async () =>
      (await jsm.streams.getMessage(names.streams.cancel, { last_by_subj: subject }).catch(() => null)) ??
      undefined,
    10_000,
    "the cancel in its stream",
  );
  const trusted = new Set(await signer.publicKeys());
  expect(verifyMessage(stored.header, subject, stored.data, trusted).ok).toBe(true);
});

describe("typed rows (persistence/outbox-store.ts)", () => {
  // Another installation's prefix: subjects the relay's own names do not parse. The relay must take
  // what a row is from its kind and transport, never from its subject.
  const foreign = `test_${crypto.randomBytes(4).toString("hex")}`;
  const other = natsNames(foreign);

  beforeAll(async () => {
    await ensureJetStream(nc, foreign);
  });

  afterAll(async () => {
    await deleteStreams(foreign);
  });

  it("publishes each row as its kind and transport say, whatever its subject: signed cancels, events directly", async () => {
    const { relay } = await startRelay();
    const holder = await db.createQueryRunner();
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(736411001)`);
    const agentId = crypto.randomUUID();
    const told: Array<{ subject: string; data: Uint8Array; headers: unknown }> = [];
    const sub = nc.subscribe(other.subjects.agentCancel(agentId), {
      callback: (_e, msg) => {
        told.push({ subject: msg.subject, data: msg.data, headers: msg.headers });
      },
    });
    try {
      await nc.flush();
      const jobId = crypto.randomUUID();
      const rows = await db.transaction((m) =>
        new OutboxStore(db).enqueue(m, [
          cancel(jobId, other.subjects.cancel(jobId)),
          outboxMessage("cancel", {
            msgId: `${msgIds.cancel(jobId, 1)}:${agentId}`,
            subject: other.subjects.agentCancel(agentId),
            payload: { jobId, attempt: 1, reason: "Stopped" },
            transport: "core",
          }),
          event("foreign", 1, other.subjects.event("foreign")),
        ]),
      );
      expect(rows.map((row) => [row.kind, row.transport])).toEqual([
        ["cancel", "jetstream"],
        ["cancel", "core"],
        ["pipelineEvent", "jetstream"],
      ]);
      relay.sendCommitted(rows);
      const trusted = new Set(await signer.publicKeys());
      // The durable cancel: in its stream, signed.
      const stored = await eventually(
        async () =>
          (await (
            await jetstreamManager(nc)
          ).streams
            .getMessage(other.streams.cancel, { last_by_subj: other.subjects.cancel(jobId) })
            .catch(() => null)) ?? undefined,
        10_000,
        "the cancel in its stream",
      );
      expect(verifyMessage(stored.header, other.subjects.cancel(jobId), stored.data, trusted).ok).toBe(true);
      // The agent's cancel: over core NATS, signed.
      const heard = await eventually(async () => told[0], 10_000, "the agent's cancel");
      expect(verifyMessage(heard.headers as never, heard.subject, heard.data, trusted).ok).toBe(true);
      // The event too, on the direct path: the relay's lock is held all along.
      await eventually(async () => (await published("foreign", other)).length === 1, 10_000, "the event");
      await eventually(async () => (await outboxIds()).length === 0, 10_000, "the outbox to empty");
    } finally {
      sub.unsubscribe();
      await holder.query(`SELECT pg_advisory_unlock(736411001)`);
      await holder.release();
    }
  });

  it("writes only what the protocol's codec accepts, as it encoded it", async () => {
    expect(() =>
      outboxMessage("cancel", {
        msgId: "cancel:x:1",
        subject: names.subjects.cancel("x"),
        payload: { jobId: "x", attempt: 0, reason: "" },
      }),
    ).toThrow(ProtocolError);
    expect(() =>
      outboxMessage("job", {
        msgId: "job:x:1",
        subject: names.subjects.cancel("x"),
        payload: { jobId: "x" } as never,
      }),
    ).toThrow(ProtocolError);
    // An agent's cancel goes over core NATS; a job never does.
    expect(() =>
      outboxMessage("job" as "cancel", {
        msgId: "job:x:1",
        subject: names.subjects.cancel("x"),
        payload: { jobId: "x", attempt: 1, reason: "Stopped" },
        transport: "core",
      }),
    ).toThrow(/does not go over core/);
    const written = event("encoded", 1);
    expect(JSON.parse(written.payload)).toEqual(decodedEvent(new TextEncoder().encode(written.payload)));
    const [row] = await db.transaction((m) => new OutboxStore(db).enqueue(m, [written]));
    const [stored] = await db.query(`SELECT kind, transport, payload FROM outbox WHERE id = $1`, [row!.id]);
    expect(stored).toEqual({
      kind: "pipelineEvent",
      transport: "jetstream",
      payload: JSON.parse(written.payload),
    });
    await db.query(`DELETE FROM outbox WHERE id = $1`, [row!.id]);
  });
});

function decodedEvent(payload: Uint8Array): unknown {
  const decoded = decode("pipelineEvent", payload);
  if (!decoded.ok) throw decoded.error;
  return decoded.message;
}
