/**
 * The outbox (engine/README.md, "Messages leave through the outbox"): messages for NATS written in
 * the transaction whose effects they carry, published after its commit by the relay
 * (messaging/outbox-relay.ts). Each row says what it is (`kind`) and how it leaves (`transport`);
 * its payload is the protocol's encoding of the message, validated when it is written: the relay
 * publishes it as it is and decides everything from the kind, never from the subject.
 */
import { encode, type MessageInput, type SignedKind } from "@sluice/protocol";
import type { DataSource, EntityManager } from "typeorm";

/**
 * What an outbox row carries (column `outbox.kind`, type `outbox_kind`):
 * - `job`: a job for an agent pool (protocol 5.1), signed;
 * - `cancel`: a cancel (5.6), signed: durable on the cancel stream, or at once on one agent's
 *   core subject;
 * - `pipelineEvent`: an execution's or a transition's event (5.9), published right after its
 *   commit like jobs; every copy's fan-out puts each execution's events back in sequence order
 *   (messaging/event-fanout.ts);
 * - `definitionEvent`: a pipeline created, updated or deleted (5.9), relayed in order.
 */
export const OUTBOX_KINDS = ["job", "cancel", "pipelineEvent", "definitionEvent"] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

/** `jetstream`: stored by a stream, with `Nats-Msg-Id`; `core`: core NATS, at most once. */
export const OUTBOX_TRANSPORTS = ["jetstream", "core"] as const;
export type OutboxTransport = (typeof OUTBOX_TRANSPORTS)[number];

/** The protocol message each kind holds. */
const MESSAGE_OF = {
  job: "job",
  cancel: "cancel",
  pipelineEvent: "pipelineEvent",
  definitionEvent: "pipelineEvent",
} as const satisfies Record<OutboxKind, "job" | "cancel" | "pipelineEvent">;

/** The transports each kind may take; the first is its default. */
const TRANSPORTS: Readonly<Record<OutboxKind, readonly OutboxTransport[]>> = {
  job: ["jetstream"],
  cancel: ["jetstream", "core"],
  pipelineEvent: ["jetstream"],
  definitionEvent: ["jetstream"],
};

/**
 * Kinds that leave only through the relay loop, in the order they were written across server
 * copies (its lock). A definition event carries no sequence a subscriber could order it by.
 */
export const RELAYED_KINDS: ReadonlySet<OutboxKind> = new Set(["definitionEvent"]);

/** How the signature of a signed row is made (PROTOCOL.md 11.5); null: not signed. */
export function signedKind(row: Pick<OutboxMessage, "kind" | "transport">): SignedKind | null {
  if (row.kind === "job") return "job";
  if (row.kind === "cancel") return row.transport === "core" ? "agentCancel" : "cancel";
  return null;
}

declare const encoded: unique symbol;
/** A payload made by the protocol's `encode` (UTF-8 JSON text): only outboxMessage makes one. */
export type EncodedPayload = string & { readonly [encoded]: true };

export interface OutboxMessage {
  kind: OutboxKind;
  transport: OutboxTransport;
  /** `Nats-Msg-Id`: the same message published twice is stored once by JetStream. */
  msgId: string;
  subject: string;
  payload: EncodedPayload;
  /**
   * The W3C trace context of the transaction that wrote a job (telemetry/tracing.ts), for the
   * relay loop to send on in its headers; absent or null when tracing is off.
   */
  traceparent?: string | null;
  tracestate?: string | null;
}

/** An outbox message as written: its row id orders it and deletes it once published. */
export interface OutboxRow extends OutboxMessage {
  id: string;
}

const utf8 = new TextDecoder();

/**
 * An outbox message of `kind`: its payload validated and encoded by the protocol's codec (a
 * ProtocolError when the message breaks the protocol: it is never written).
 */
export function outboxMessage<K extends OutboxKind>(
  kind: K,
  message: {
    msgId: string;
    subject: string;
    payload: MessageInput<(typeof MESSAGE_OF)[K]>;
    transport?: OutboxTransport;
    traceparent?: string | null;
    tracestate?: string | null;
  },
): OutboxMessage {
  const allowed = TRANSPORTS[kind];
  const transport = message.transport ?? allowed[0]!;
  if (!allowed.includes(transport)) throw new TypeError(`A ${kind} message does not go over ${transport}.`);
  const body = encode(MESSAGE_OF[kind], message.payload, message.subject);
  return {
    kind,
    transport,
    msgId: message.msgId,
    subject: message.subject,
    payload: utf8.decode(body) as EncodedPayload,
    ...(message.traceparent !== undefined ? { traceparent: message.traceparent } : {}),
    ...(message.tracestate !== undefined ? { tracestate: message.tracestate } : {}),
  };
}

/** The parameters of an insert of `messages` (unnest arrays), in column order. */
function outboxColumns(messages: OutboxMessage[]): unknown[] {
  return [
    messages.map((x) => x.msgId),
    messages.map((x) => x.subject),
    messages.map((x) => x.payload),
    messages.map((x) => x.traceparent ?? null),
    messages.map((x) => x.tracestate ?? null),
    messages.map((x) => x.kind),
    messages.map((x) => x.transport),
  ];
}

/** `unnest(...)` of outboxColumns, its parameters numbered from `first`. */
function outboxUnnest(first: number): string {
  const n = (i: number) => `$${first + i}`;
  return (
    `unnest(${n(0)}::text[], ${n(1)}::text[], ${n(2)}::jsonb[], ${n(3)}::text[], ${n(4)}::text[], ` +
    // Through text[]: PGlite sends a JS array only as an array of a type it knows.
    `${n(5)}::text[]::outbox_kind[], ${n(6)}::text[]::outbox_transport[])`
  );
}

/** The columns outboxUnnest fills, in its order. */
const OUTBOX_INSERT_COLUMNS = "msg_id, subject, payload, traceparent, tracestate, kind, transport";

/** The written messages with the ids the insert gave them (matched by msg_id), in id order. */
export function withRowIds(
  messages: OutboxMessage[],
  rows: Array<{ id: string; msg_id: string }>,
): OutboxRow[] {
  const byMsgId = new Map<string, OutboxMessage[]>();
  for (const message of messages) {
    const same = byMsgId.get(message.msgId);
    if (same) same.push(message);
    else byMsgId.set(message.msgId, [message]);
  }
  const written: OutboxRow[] = [];
  for (const row of [...rows].sort((a, b) => Number(a.id) - Number(b.id))) {
    const message = byMsgId.get(row.msg_id)?.shift();
    if (message) written.push({ ...message, id: String(row.id) });
  }
  return written;
}

/**
 * Every statement on the outbox but the engine's decision (ExecutionStore.writeDecision writes its
 * messages in its one statement, with the same columns).
 */
export class OutboxStore {
  constructor(private readonly db: DataSource) {}

  /** Messages for NATS, sent by the outbox relay after this transaction commits. */
  async enqueue(m: EntityManager, messages: OutboxMessage[]): Promise<OutboxRow[]> {
    if (messages.length === 0) return [];
    const written: Array<{ id: string; msg_id: string }> = await m.query(
      `INSERT INTO outbox (${OUTBOX_INSERT_COLUMNS}) SELECT * FROM ${outboxUnnest(1)} RETURNING id, msg_id`,
      outboxColumns(messages),
    );
    return withRowIds(messages, written);
  }

  /** Deletes rows NATS stored (the direct path). */
  async deletePublished(ids: string[]): Promise<void> {
    await this.db.query(`DELETE FROM outbox WHERE id = ANY($1::bigint[])`, [ids]);
  }

  /**
   * One relay round: in one transaction, takes the transaction-level advisory lock `lock` and up to
   * `batch` rows at least `minAgeMs` old but those in `exclude`, in id order, deleting them, and
   * hands them to `publish`; the transaction commits when `publish` resolves and rolls back (the
   * rows come back) when it throws. Returns how many rows it took, or -1 when another holds the lock.
   */
  async relay(
    options: { lock: number; batch: number; minAgeMs: number; exclude: string[] },
    publish: (rows: OutboxRow[]) => Promise<void>,
  ): Promise<number> {
    return this.db.transaction(async (m) => {
      // One statement takes the lock and the batch: the rows are deleted now and come back if
      // publishing fails (the transaction rolls back), so nothing is lost and nothing is sent
      // twice by two copies.
      const [taken]: Array<{
        locked: boolean;
        rows: Array<Omit<OutboxRow, "id" | "payload"> & { id: string | number; payload: unknown }> | null;
      }> = await m.query(
        `WITH lock AS (SELECT pg_try_advisory_xact_lock($1) AS ok),
                batch AS (
                  DELETE FROM outbox WHERE id IN (
                    SELECT id FROM outbox
                     WHERE (SELECT ok FROM lock) AND created_at <= now() - make_interval(secs => $3::float8 / 1000)
                       AND NOT (id = ANY($4::bigint[]))
                     ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED)
                  RETURNING id, kind, transport, msg_id, subject, payload, traceparent, tracestate)
           SELECT (SELECT ok FROM lock) AS locked,
                  (SELECT json_agg(json_build_object('id', id, 'kind', kind, 'transport', transport,
                                                     'msgId', msg_id, 'subject', subject,
                                                     'payload', payload, 'traceparent', traceparent,
                                                     'tracestate', tracestate)
                                   ORDER BY id) FROM batch) AS rows`,
        [options.lock, options.batch, options.minAgeMs, options.exclude],
      );
      if (!taken?.locked) return -1;
      // The payload as JSON again: jsonb keeps no spaces or order, its text form would add spaces.
      const rows = (taken.rows ?? []).map((row) => ({
        ...row,
        id: String(row.id),
        payload: JSON.stringify(row.payload) as EncodedPayload,
      }));
      if (rows.length === 0) return 0;
      await publish(rows);
      return rows.length;
    });
  }
}
