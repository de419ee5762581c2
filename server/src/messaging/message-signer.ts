/**
 * Signs every message the server sends that an agent obeys (PROTOCOL.md 11.5): jobs and cancels,
 * on the stream subjects and on an agent's core cancel subject. The key comes from
 * SigningKeyStore (PostgreSQL, encrypted by the secret vault), the same for every server copy.
 * After a rotation (`rotateSigningKey`) the copy that rotated signs with the new key at once; the
 * others when they next look (every REFRESH_MS, and whenever the keys they hand out show a newer
 * one): meanwhile the old key is still trusted, for its grace.
 */
import { headers, type MsgHdrs } from "@nats-io/transport-node";
import {
  MSG_ID_HEADER,
  SIGNATURE_LIFETIMES_MS,
  signMessage,
  type MessageSigningKey,
  type SignedKind,
} from "@sluice/protocol";
import type { SigningKeyRotation, SigningKeyStore, TrustedKey } from "../persistence/signing-key-store";

/** How often a copy looks for a key another copy rotated in. */
export const REFRESH_MS = 30_000;

export class MessageSigner {
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;

  constructor(
    private key: MessageSigningKey,
    private readonly store: SigningKeyStore,
  ) {}

  /** The key this copy signs with. */
  get publicKey(): string {
    return this.key.publicKey;
  }

  /**
   * What agents trust: every key not retired (the one that signs and those within their grace),
   * newest first, with when each retiring one stops being accepted.
   */
  async trustedKeys(): Promise<TrustedKey[]> {
    const stored = await this.store.trustedKeys();
    // Another copy rotated: sign with its key from now on (ours stays trusted for its grace).
    if (stored[0] && stored[0].retiresAt === null && stored[0].publicKey !== this.key.publicKey)
      this.refresh().catch(() => undefined);
    return stored;
  }

  /** The public keys of trustedKeys(). */
  async publicKeys(): Promise<string[]> {
    return (await this.trustedKeys()).map((k) => k.publicKey);
  }

  /** A new key signs from now on; the others are retired after `graceMs` (SigningKeyStore.rotate). */
  async rotate(graceMs: number): Promise<SigningKeyRotation> {
    const { key, ...rotation } = await this.store.rotate(graceMs);
    // A refresh still under way read the keys before this rotation: this key wins over it.
    await this.refreshing?.catch(() => undefined);
    this.key = key;
    return rotation;
  }

  /** Signs with the store's current key from now on. */
  refresh(): Promise<void> {
    this.refreshing ??= this.store
      .current()
      .then(({ key }) => {
        this.key = key;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  /**
   * Looks for a rotated key every `intervalMs` until stop(): one plain read of the keys, and the
   * new key opened only when there is one.
   */
  start(intervalMs = REFRESH_MS, onError: (error: unknown) => void = () => undefined): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.trustedKeys()
        .then(() => this.refreshing ?? undefined, onError)
        .catch(onError);
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * The headers of a message of `kind` (a job, a cancel on its stream, a cancel on one agent's core
   * subject) on `subject`: `Nats-Msg-Id` and the signature, valid for the kind's lifetime from now.
   * The sender says the kind (the outbox row's, PROTOCOL.md 11.5); the subject is not read for it.
   */
  headers(kind: SignedKind, subject: string, msgId: string, body: Uint8Array): MsgHdrs {
    if (!Object.hasOwn(SIGNATURE_LIFETIMES_MS, kind))
      throw new Error(`${kind} is not a kind the server signs`);
    const h = headers();
    h.set(MSG_ID_HEADER, msgId);
    const signed = signMessage(this.key, { subject, msgId, body }, SIGNATURE_LIFETIMES_MS[kind]);
    for (const [name, value] of Object.entries(signed)) h.set(name, value);
    return h;
  }
}
