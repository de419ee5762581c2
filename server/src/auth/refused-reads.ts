import { actionFor, resolveResource, type OperationPermission, type ResourceLookups } from "../domain/policy";
import type { Logger } from "../logger";
import type { AuditStore, NewAuditEvent } from "../persistence/audit-store";
import { accountFor } from "./authorization";
import { actingAccount, DEFAULT_ACCOUNT, homeAccount, type Principal } from "./principal";

/** Distinct (principal, operation, resource) kept per window; past it, resources are folded. */
export const REFUSED_READ_KEYS = 1000;

/** What a folded row names as its resource: the window had more distinct ones than the budget. */
export const FOLDED_RESOURCES = "(more resources than the window's budget)";

/** How long the shutdown waits for the last window's rows. */
const STOP_FLUSH_MS = 5000;

/** What a refused operation needed: the policy action and the resource (an SRN), when known. */
export interface RefusedAccess {
  action: string | null;
  resource: string | null;
}

/** Lookups that look nothing up: what the audit names of a refusal costs no statement. */
const NO_LOOKUPS: ResourceLookups = {
  pipelineOfExecution: async () => null,
  actionOfActionExecution: async () => null,
  principalOfApiToken: async () => null,
  trustPolicyOfRole: async () => null,
};

/**
 * The action and resource a refused operation needed, for its audit row: the resource's SRN when
 * its arguments name it, `each <type>` for a list, `<kind> "<id>"` for one named by an id (not
 * looked up: a flood of refusals costs no query).
 */
export async function refusedAccess(
  permission: OperationPermission | undefined,
  args: Record<string, unknown>,
  principal: Principal | null,
): Promise<RefusedAccess> {
  if (!permission) return { action: null, resource: null };
  const spec = permission.resource;
  const resolved = await resolveResource(
    spec,
    args,
    principal ? accountFor(principal) : DEFAULT_ACCOUNT,
    NO_LOOKUPS,
  );
  const byId =
    spec.kind === "execution" || spec.kind === "actionExecution" || spec.kind === "apiToken"
      ? `${spec.kind} ${JSON.stringify(String(args[spec.arg]).slice(0, 100))}`
      : null;
  const resource =
    resolved.kind === "one"
      ? resolved.srn
      : resolved.kind === "each"
        ? `each ${resolved.of}`
        : resolved.kind === "unresolved"
          ? byId
          : null;
  return { action: actionFor(permission, args), resource };
}

/** One refused read, as the GraphQL checker and the HTTP routes report it. */
export interface RefusedRead {
  /** `Query.<field>`, `Subscription.<field>`, `<Type>.<field>` or an HTTP route (`GET /version`). */
  operation: string;
  outcome: string;
  message: string;
  access: RefusedAccess;
  pipelineName: string | null;
  requestId: string | null;
}

interface Pending {
  event: NewAuditEvent;
  occurrences: number;
}

/**
 * Refused queries, subscriptions and HTTP reads in the audit log, within a budget (docs/policies.md,
 * "Refused requests in the audit log"); the GraphQL checker (graphql/auth-checker.ts) and the HTTP
 * routes' (http/authorize.ts) report to it. A client hammering a request it may not make must not
 * flood PostgreSQL: refusals are counted in memory per principal, account, operation and resource,
 * and every window
 * (SLUICE_AUDIT_REFUSAL_WINDOW_SECONDS) one row per such key is written, its `occurrences` the
 * number of refusals it stands for. At most REFUSED_READ_KEYS keys a window: past that, a
 * principal's further resources of one operation share one row. The window's counts are also
 * written when the server stops, and when `flush()` is called (the tests wait on it instead of on
 * time). A failed write keeps the counts for the next window. Refused mutations are recorded one
 * by one (graphql/audit.ts, `auditRefusal`).
 */
export class RefusedReads {
  private pending = new Map<string, Pending>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly audit: AuditStore,
    private readonly windowMs: number,
    private readonly logger: Logger,
  ) {}

  /** Writes each window's rows at its end, until stopped (the timer keeps no process alive). */
  start(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flushing = this.round().finally(() => {
        this.flushing = null;
        this.start();
      });
    }, this.windowMs);
    this.timer.unref();
  }

  /** Counts one refused read of `principal` (null: no valid credentials). */
  refusedBy(principal: Principal | null, read: RefusedRead): void {
    const { access } = read;
    this.refused(
      {
        principal: principal?.id ?? "anonymous",
        account: principal ? actingAccount(principal) : DEFAULT_ACCOUNT,
        principalAccount: principal ? homeAccount(principal) : DEFAULT_ACCOUNT,
        assumedRole: principal?.assumedRole
          ? `${principal.assumedRole.srn} (session ${principal.assumedRole.sessionName})`
          : null,
        operation: read.operation,
        pipelineName: read.pipelineName,
        target: access.resource,
        arguments: { action: access.action, resource: access.resource },
        outcome: read.outcome,
        error: read.message.slice(0, 1000),
        requestId: read.requestId,
      },
      access.resource,
    );
  }

  /** Counts one refusal of `event` (its outcome and reason) on `resource`. */
  private refused(event: NewAuditEvent, resource: string | null): void {
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

  private async round(): Promise<void> {
    await this.flush().catch((error: unknown) =>
      this.logger.warn({ err: (error as Error).message }, "refused queries not audited yet; retrying"),
    );
  }

  /**
   * Stops the windows and writes the last one's rows, waiting at most STOP_FLUSH_MS: a database
   * that stopped answering must not hold the shutdown (those counts are then lost, and logged).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flushing;
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
