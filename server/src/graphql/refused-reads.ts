import { Periodic } from "../engine/periodic";
import type { Logger } from "../logger";
import type { AuditStore, NewAuditEvent } from "../persistence/audit-store";

/** Distinct (principal, operation, resource) kept per window; past it, resources are folded. */
export const REFUSED_READ_KEYS = 1000;

/** What a folded row names as its resource: the window had more distinct ones than the budget. */
export const FOLDED_RESOURCES = "(more resources than the window's budget)";

/** How long the shutdown waits for the last window's rows. */
const STOP_FLUSH_MS = 5000;

interface Pending {
  event: NewAuditEvent;
  occurrences: number;
}

/**
 * Refused queries and subscriptions in the audit log, within a budget (docs/policies.md, "The
 * audit log"). A client hammering a query it may not make must not flood PostgreSQL: refusals are
 * counted in memory per principal, account, operation and resource, and every window
 * (SLUICE_AUDIT_REFUSAL_WINDOW_SECONDS) one row per such key is written, its `occurrences` the
 * number of refusals it stands for. At most REFUSED_READ_KEYS keys a window: past that, a
 * principal's further resources of one operation share one row. The window's counts are also
 * written when the server stops, and when `flush()` is called (the tests wait on it instead of on
 * time). A failed write keeps the counts for the next window. Refused mutations are recorded one
 * by one (graphql/audit.ts, `auditRefusal`).
 */
export class RefusedReads extends Periodic {
  private pending = new Map<string, Pending>();

  constructor(
    private readonly audit: AuditStore,
    windowMs: number,
    private readonly logger: Logger,
  ) {
    super(windowMs);
  }

  /** Counts one refusal of `event` (its outcome and reason) on `resource`. */
  refused(event: NewAuditEvent, resource: string | null): void {
    const keyOf = (r: string | null) =>
      JSON.stringify([event.principal, event.account, event.assumedRole, event.operation, r]);
    let key = keyOf(resource);
    let entry = this.pending.get(key);
    if (!entry && this.pending.size >= REFUSED_READ_KEYS) {
      key = keyOf(FOLDED_RESOURCES);
      entry = this.pending.get(key);
      event = {
        ...event,
        target: FOLDED_RESOURCES,
        pipelineName: null,
        arguments: { ...event.arguments, resource: FOLDED_RESOURCES },
      };
    }
    if (entry) entry.occurrences += 1;
    else this.pending.set(key, { event, occurrences: 1 });
  }

  /** Refusals counted and not yet written. */
  get unwritten(): number {
    let total = 0;
    for (const entry of this.pending.values()) total += entry.occurrences;
    return total;
  }

  /** Writes the window's rows now; resolves to how many it wrote. */
  async flush(): Promise<number> {
    const batch = this.pending;
    this.pending = new Map();
    let written = 0;
    try {
      for (const [key, entry] of batch) {
        await this.audit.record({ ...entry.event, occurrences: entry.occurrences });
        batch.delete(key);
        written += 1;
      }
    } catch (error) {
      // Not lost: counted again with the next window's.
      for (const [key, entry] of batch) {
        const current = this.pending.get(key);
        if (current) current.occurrences += entry.occurrences;
        else this.pending.set(key, entry);
      }
      throw error;
    }
    return written;
  }

  protected async round(): Promise<void> {
    await this.flush().catch((error: unknown) =>
      this.logger.warn({ err: (error as Error).message }, "refused queries not audited yet; retrying"),
    );
  }

  /**
   * Stops the windows and writes the last one's rows, waiting at most STOP_FLUSH_MS: a database
   * that stopped answering must not hold the shutdown (those counts are then lost, and logged).
   */
  override async stop(): Promise<void> {
    await super.stop();
    const refusals = this.unwritten;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.logger.warn({ refusals }, "refused queries not audited before the shutdown");
        resolve();
      }, STOP_FLUSH_MS);
    });
    await Promise.race([this.round(), late]);
    clearTimeout(timer);
  }
}
