import type { GraphQLResolveInfo } from "graphql";
import type { MiddlewareFn } from "type-graphql";
import { DomainError } from "../domain/errors";
import { PendingAudit, type NewAuditEvent } from "../persistence/audit-store";
import { actingAccount, DEFAULT_ACCOUNT, homeAccount } from "../auth/principal";
import { ROLE_SRN } from "../domain/policy";
import type { RefusedAccess } from "../auth/refused-reads";
import { taggablePipeline } from "../domain/pipeline/tags";
import type { GraphQLContext } from "./context";
import { INPUT_STYLE_MUTATIONS } from "./deprecations";
import { isUnavailable, isUnstorableText } from "./errors";

// `url`: a notification target's incoming-webhook URL holds its credential; `value`: putSecret's.
const SECRET_KEY = /token|secret|password|authorization|^url$|^value$/i;
const MAX_STRING = 300;

/**
 * What the audit log keeps of a mutation's arguments: values of secret-looking keys are masked,
 * whole documents are reduced to their name (they hold configuration, secrets included, and each
 * version is kept elsewhere), long strings are cut.
 */
export function auditArguments(value: unknown, key = "", depth = 0): unknown {
  if (SECRET_KEY.test(key)) return "****";
  // A notification target's headers, [{ name, value }]: the values are often credentials.
  if (key === "headers" && Array.isArray(value)) {
    return value.slice(0, 20).map((h) => ({ name: (h as { name?: unknown })?.name, value: "****" }));
  }
  if (typeof value === "string") return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (value === null || typeof value !== "object") return value;
  if (depth >= 3) return Array.isArray(value) ? `[${value.length} items]` : "{…}";
  if (Array.isArray(value)) return value.slice(0, 20).map((item) => auditArguments(item, "", depth + 1));
  const record = value as Record<string, unknown>;
  // An installation archive (importInstallation): what it is and how much, not its contents.
  if (key === "archive") {
    const count = (field: unknown) => (Array.isArray(field) ? field.length : null);
    return {
      format: auditArguments(record.format, "format", depth + 1),
      formatVersion: typeof record.formatVersion === "number" ? record.formatVersion : null,
      pipelines: count(record.pipelines),
      agentTokens: count(record.agentTokens),
      notificationRules: count(record.notificationRules),
    };
  }
  if ((key === "input" || key === "json" || key === "pipeline") && "stages" in record) {
    return typeof record.name === "string" ? { name: record.name } : {};
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, auditArguments(v, k, depth + 1)]));
}

function pipelineOf(args: Record<string, unknown>): string | null {
  // tagResource, untagResource: the pipeline named by its SRN.
  const tagged = typeof args.resourceArn === "string" ? taggablePipeline(args.resourceArn) : null;
  if (tagged) return tagged.name;
  const field = (value: unknown, key: string): unknown =>
    value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  const candidates = [
    args.pipelineName,
    args.name,
    field(args.input, "name"),
    field(args.pipeline, "name"),
    field(args.json, "name"),
    field(field(args.json, "pipeline"), "name"),
    field(args.document, "name"),
    field(field(args.document, "pipeline"), "name"),
  ];
  return candidates.find((c): c is string => typeof c === "string") ?? null;
}

/** For mutations that name an execution or an action execution only: its pipeline, when it exists. */
async function pipelineOfTarget(ctx: GraphQLContext, args: Record<string, unknown>): Promise<string | null> {
  try {
    if (typeof args.actionExecutionId === "string") {
      return (await ctx.engine.findAttempt(args.actionExecutionId))?.execution.view.pipelineName ?? null;
    }
    if (typeof args.executionId === "string") {
      return (await ctx.engine.requireExecution(args.executionId)).view.pipelineName;
    }
  } catch {
    // an unknown id: the mutation itself said so
  }
  return null;
}

function targetOf(args: Record<string, unknown>): string | null {
  for (const key of ["executionId", "actionExecutionId", "targetExecutionId", "id", "stageName"]) {
    if (typeof args[key] === "string") return `${key}=${args[key]}`;
  }
  return null;
}

function outcomeOf(error: unknown): string {
  if (error instanceof DomainError) return error.code;
  if (isUnavailable(error)) return "UNAVAILABLE";
  if (isUnstorableText(error)) return "BAD_USER_INPUT";
  const code = (error as { extensions?: { code?: unknown } } | null)?.extensions?.code;
  return typeof code === "string" ? code : "INTERNAL_SERVER_ERROR";
}

/** A mutation of GitHub's style (deprecations.ts) names what it acts on in the fields of `input`. */
function namedArguments(operation: string, args: Record<string, unknown>): Record<string, unknown> {
  const input = args.input;
  return INPUT_STYLE_MUTATIONS.has(operation) && input !== null && typeof input === "object"
    ? (input as Record<string, unknown>)
    : args;
}

/** An audit row: who asked (and in which account, as which role), what, and how it went. */
function eventOf(
  context: GraphQLContext,
  operation: string,
  args: Record<string, unknown>,
  outcome: string,
  error: string | null,
  pipelineName: string | null,
): NewAuditEvent {
  const p = context.principal;
  const named = namedArguments(operation, args);
  // assumeRole is about the role's account: its log shows who assumed (or tried to) its roles.
  const assumes = operation === "assumeRole" || operation === "assumeRoleV2";
  const role = assumes && typeof named.role === "string" ? ROLE_SRN.exec(named.role) : null;
  return {
    principal: p?.id ?? "anonymous",
    account: role ? role[1]! : p ? actingAccount(p) : DEFAULT_ACCOUNT,
    principalAccount: p ? homeAccount(p) : DEFAULT_ACCOUNT,
    assumedRole: p?.assumedRole ? `${p.assumedRole.srn} (session ${p.assumedRole.sessionName})` : null,
    operation,
    pipelineName,
    target: targetOf(named),
    arguments: auditArguments(args) as Record<string, unknown>,
    outcome,
    error,
    requestId: context.requestId,
  };
}

/** The audit row of a mutation: who asked, what, about which pipeline and target. */
async function auditEvent(
  context: GraphQLContext,
  operation: string,
  args: Record<string, unknown>,
  outcome: string,
  error: string | null,
): Promise<NewAuditEvent> {
  const named = namedArguments(operation, args);
  const pipelineName = pipelineOf(named) ?? (await pipelineOfTarget(context, named));
  return eventOf(context, operation, args, outcome, error, pipelineName);
}

/** Writes a row for a mutation that changed nothing; one that cannot be written goes to the server's log. */
async function recordUnchanged(context: GraphQLContext, event: NewAuditEvent): Promise<void> {
  try {
    await context.audit.record(event);
  } catch (failure) {
    context.logger.error({ err: failure, operation: event.operation }, "audit event not written");
  }
}

const errorText = (error: unknown, outcome: string) =>
  outcome === "INTERNAL_SERVER_ERROR" ? null : String((error as Error).message).slice(0, 1000);

/**
 * Every mutation, done or refused, goes to the audit log with who asked, what and how it went
 * (every @Mutation carries it: a test checks; mutations refused before they run, for a missing or
 * invalid token or a missing permission, are recorded by the auth checker through
 * `auditRefusal`). A mutation's row is written in the transaction that makes its change
 * (persistence/audit-store.ts, `auditedTransaction`): a row that cannot be written fails the
 * mutation, which then changes nothing. A mutation that reached no such transaction has its row
 * written afterwards, and fails if it cannot be. Applied per mutation rather than globally: a
 * global type-graphql middleware would wrap every field of every query.
 */
export const auditMutations: MiddlewareFn<GraphQLContext> = async ({ info, args, context }, next) => {
  const event = await auditEvent(context, info.fieldName, args, "ok", null);
  const pending = new PendingAudit(event);
  let result: unknown;
  try {
    result = await pending.run(next);
  } catch (error) {
    const outcome = outcomeOf(error);
    if (pending.id === null) {
      await recordUnchanged(context, { ...event, outcome, error: errorText(error, outcome) });
    } else {
      // Its change committed (with an "ok" row) before it failed: the row says how it ended.
      await context.audit
        .settle(pending.id, outcome, errorText(error, outcome))
        .catch((failure: unknown) =>
          context.logger.error({ err: failure, operation: event.operation }, "audit outcome not written"),
        );
    }
    throw error;
  }
  if (pending.id === null) await context.audit.record(event);
  return result;
};

/**
 * Refused mutations recorded per minute and server copy at most: anyone who can reach the server
 * can send unauthenticated requests, and must not be able to fill the audit log with them. Those
 * over the budget are counted in the server's log.
 */
export const REFUSALS_PER_MINUTE = 60;

class RefusalBudget {
  private tokens = REFUSALS_PER_MINUTE;
  private last = Date.now();
  private dropped = 0;
  private lastReport = 0;

  take(context: GraphQLContext): boolean {
    const now = Date.now();
    this.tokens = Math.min(
      REFUSALS_PER_MINUTE,
      this.tokens + ((now - this.last) * REFUSALS_PER_MINUTE) / 60_000,
    );
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.dropped++;
    if (now - this.lastReport >= 60_000) {
      this.lastReport = now;
      context.logger.warn(
        { notRecorded: this.dropped },
        `more than ${REFUSALS_PER_MINUTE} refused mutations a minute: the rest are not in the audit log`,
      );
      this.dropped = 0;
    }
    return false;
  }
}

const refusals = new RefusalBudget();

/**
 * Records an operation refused before it ran (UNAUTHENTICATED, FORBIDDEN…), within a budget: a
 * mutation as a row of its own (at most REFUSALS_PER_MINUTE a minute), a query, a subscription or a
 * guarded field (`Pipeline.state`) counted in the window's row for its principal, operation and
 * resource (auth/refused-reads.ts), named `Query.<field>`, `Subscription.<field>` or
 * `<Type>.<field>`, with the action and resource in its arguments.
 */
export async function auditRefusal(
  context: GraphQLContext,
  info: GraphQLResolveInfo,
  args: Record<string, unknown>,
  outcome: "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND" | "BAD_USER_INPUT",
  message: string,
  access: RefusedAccess,
): Promise<void> {
  if (info.parentType.name !== "Mutation") {
    context.refusedReads.refusedBy(context.principal, {
      operation: `${info.parentType.name}.${info.fieldName}`,
      outcome,
      message,
      access,
      pipelineName: pipelineOf(args),
      requestId: context.requestId,
    });
    return;
  }
  if (!refusals.take(context)) return;
  await recordUnchanged(context, await auditEvent(context, info.fieldName, args, outcome, message));
}
