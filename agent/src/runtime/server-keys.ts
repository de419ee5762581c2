/**
 * Which keys the agent trusts to sign jobs and cancels (PROTOCOL.md 11.5), and the check itself.
 * Pinned keys (--server-key) win; otherwise the keys of the last NATS credentials (learnt over the
 * authenticated HTTPS exchange, again at every renewal: a rotation needs no restart); only an
 * agent without credentials (SLUICE_NATS_INSECURE=1) takes them from its registration reply.
 * After a rotation the credentials say when each old key retires: from then on it is refused, even
 * before the next renewal. A job signed by a key the agent does not know yet (rotated since its
 * last renewal) makes the agent ask for its credentials again (agent.ts).
 */
import { verifyMessage, type HeaderReader, type SignatureCheck } from "@sluice/protocol";

export class ServerKeys {
  private fromCredentials: ReadonlySet<string> | null = null;
  /** Key → when it stops being trusted (ms since the epoch), from the credentials. */
  private retiring: ReadonlyMap<string, number> = new Map();
  private fromRegistration: ReadonlySet<string> | null = null;
  private readonly pinned: ReadonlySet<string> | null;

  constructor(pinned?: readonly string[]) {
    this.pinned = pinned && pinned.length > 0 ? new Set(pinned) : null;
  }

  /** The keys of a credentials reply (start and every renewal), and when the retiring ones stop. */
  learnFromCredentials(keys: readonly string[], retiring: Readonly<Record<string, string>> = {}): void {
    this.fromCredentials = new Set(keys);
    this.retiring = new Map(
      Object.entries(retiring)
        .map(([key, at]) => [key, Date.parse(at)] as const)
        .filter(([key, at]) => keys.includes(key) && Number.isFinite(at)),
    );
  }

  /** The keys of a registration reply: used only when neither pinned nor credentials gave any. */
  learnFromRegistration(keys: readonly string[] | undefined): void {
    if (keys && keys.length > 0) this.fromRegistration = new Set(keys);
  }

  /** The keys trusted at `now`: pinned, else those of the credentials not retired yet, else the registration's. */
  trustedAt(now = Date.now()): ReadonlySet<string> {
    if (this.pinned) return this.pinned;
    if (this.fromCredentials) {
      if (this.retiring.size === 0) return this.fromCredentials;
      return new Set(
        [...this.fromCredentials].filter((key) => !((this.retiring.get(key) ?? Infinity) <= now)),
      );
    }
    return this.fromRegistration ?? new Set();
  }

  get trusted(): ReadonlySet<string> {
    return this.trustedAt();
  }

  get source(): "pinned" | "credentials" | "registration" | "none" {
    if (this.pinned) return "pinned";
    if (this.fromCredentials) return "credentials";
    return this.fromRegistration ? "registration" : "none";
  }

  /** Whether the message on `subject` was signed by a trusted key for that subject and payload. */
  check(
    headers: HeaderReader | undefined,
    subject: string,
    body: Uint8Array,
    now = Date.now(),
  ): SignatureCheck {
    return verifyMessage(headers, subject, body, this.trustedAt(now), now);
  }
}
