/**
 * Which keys the agent trusts to sign jobs and cancels (PROTOCOL.md 11.5), and the check itself.
 * Pinned keys (--server-key) win; otherwise the keys of the last NATS credentials (learnt over the
 * authenticated HTTPS exchange, again at every renewal: a rotation needs no restart); only an
 * agent without credentials (SLUICE_NATS_INSECURE=1) takes them from its registration reply.
 */
import { verifyMessage, type HeaderReader, type SignatureCheck } from "@sluice/protocol";

export class ServerKeys {
  private fromCredentials: ReadonlySet<string> | null = null;
  private fromRegistration: ReadonlySet<string> | null = null;
  private readonly pinned: ReadonlySet<string> | null;

  constructor(pinned?: readonly string[]) {
    this.pinned = pinned && pinned.length > 0 ? new Set(pinned) : null;
  }

  /** The keys of a credentials reply (start and every renewal). */
  learnFromCredentials(keys: readonly string[]): void {
    this.fromCredentials = new Set(keys);
  }

  /** The keys of a registration reply: used only when neither pinned nor credentials gave any. */
  learnFromRegistration(keys: readonly string[] | undefined): void {
    if (keys && keys.length > 0) this.fromRegistration = new Set(keys);
  }

  get trusted(): ReadonlySet<string> {
    return this.pinned ?? this.fromCredentials ?? this.fromRegistration ?? new Set();
  }

  get source(): "pinned" | "credentials" | "registration" | "none" {
    if (this.pinned) return "pinned";
    if (this.fromCredentials) return "credentials";
    return this.fromRegistration ? "registration" : "none";
  }

  /** Whether the message on `subject` was signed by a trusted key for that subject and payload. */
  check(headers: HeaderReader | undefined, subject: string, body: Uint8Array): SignatureCheck {
    return verifyMessage(headers, subject, body, this.trusted);
  }
}
