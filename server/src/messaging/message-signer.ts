/**
 * Signs every message the server sends that an agent obeys (PROTOCOL.md 11.5): jobs and cancels,
 * on the stream subjects and on an agent's core cancel subject. The key comes from
 * SigningKeyStore (PostgreSQL, encrypted by the secret vault), the same for every server copy.
 */
import { headers, type MsgHdrs } from "@nats-io/transport-node";
import {
  MSG_ID_HEADER,
  SIGNATURE_LIFETIMES_MS,
  natsNames,
  signMessage,
  type MessageSigningKey,
  type NatsNames,
  type SignedKind,
} from "@sluice/protocol";
import type { SigningKeyStore } from "../persistence/signing-key-store";

export class MessageSigner {
  private readonly names: NatsNames;

  constructor(
    private readonly key: MessageSigningKey,
    private readonly store: SigningKeyStore,
    prefix: string,
  ) {
    this.names = natsNames(prefix);
  }

  /** The key this copy signs with. */
  get publicKey(): string {
    return this.key.publicKey;
  }

  /** What agents trust: every key not retired, this copy's signing key first. */
  async publicKeys(): Promise<string[]> {
    const stored = await this.store.publicKeys();
    return [this.key.publicKey, ...stored.filter((k) => k !== this.key.publicKey)].slice(0, 8);
  }

  /**
   * The headers of a message on `subject` (a job, cancel or agent cancel subject of this
   * installation): `Nats-Msg-Id` and the signature, valid for the subject's lifetime from now.
   */
  headers(subject: string, msgId: string, body: Uint8Array): MsgHdrs {
    const kind = this.names.parse(subject)?.kind;
    if (kind !== "job" && kind !== "cancel" && kind !== "agentCancel")
      throw new Error(`${subject} is not a subject the server signs`);
    const h = headers();
    h.set(MSG_ID_HEADER, msgId);
    const signed = signMessage(
      this.key,
      { subject, msgId, body },
      SIGNATURE_LIFETIMES_MS[kind as SignedKind],
    );
    for (const [name, value] of Object.entries(signed)) h.set(name, value);
    return h;
  }
}
