import { timerKey } from "../domain/execution";
import { decodeExecution } from "../domain/execution/stored";
import { currentAttempt, type AttemptLocation } from "../domain/execution/state";
import type { ExecutionState } from "../domain/execution/types";
import type { PipelineStore } from "../persistence/pipeline-store";
import type { LeaseTokens } from "./lease-tokens";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Who holds an attempt's lease, as proven by a request: the attempt, or why not. */
export type LeaseCheck =
  /** `agentId`: the lease holder's; null for a read before the accept was applied (below). */
  | { ok: true; at: AttemptLocation; agentId: string | null }
  | {
      ok: false;
      /** 403: not the caller's; 404: no such running job; 409: the accept is not recorded yet (ask again). */
      status: 403 | 404 | 409;
      code: "FORBIDDEN" | "NOT_FOUND" | "NOT_STARTED";
      message: string;
    };

/**
 * The check of the job artifact routes (PROTOCOL.md 9.3): a request about attempt `attempt` of job
 * `jobId` is the lease holder's when it carries the attempt's lease token (proof that its sender
 * received the job), comes with the token of the agent whose accept started the attempt (a revoked
 * token never gets here: the route's authentication refuses it), and that agent's lease is there
 * (the engine has not ended it: it ends a lease when it fires its timer, judged on the results
 * applied, not when its time passes) on the attempt that is its action's current one and in progress.
 *
 * A read (`beforeAccept`) may also come while the attempt is still queued, its accept on its way:
 * the agent downloads its inputs right after the stream stored its accept, before the server has
 * applied it. Then the lease token (only agents that received the job hold it) and an agent token
 * of the pipeline's account suffice; a write always needs the applied accept and its lease.
 */
export class JobLeases {
  constructor(
    private readonly store: PipelineStore,
    private readonly leaseTokens: LeaseTokens,
  ) {}

  async check(
    token: { id: string; account: string },
    jobId: string,
    attempt: number,
    leaseToken: string,
    options: { beforeAccept?: boolean } = {},
  ): Promise<LeaseCheck> {
    const refuse = (status: 403 | 404 | 409, message: string): LeaseCheck => ({
      ok: false,
      status,
      code: status === 403 ? "FORBIDDEN" : status === 404 ? "NOT_FOUND" : "NOT_STARTED",
      message,
    });
    if (!UUID.test(jobId) || !Number.isInteger(attempt) || attempt < 1)
      return refuse(404, `No job ${jobId} attempt ${attempt} is running.`);
    if (!this.leaseTokens.verifies(jobId, attempt, leaseToken))
      return refuse(403, "The lease token is not this job attempt's.");
    const row = await this.store.jobLease(jobId, timerKey(jobId, attempt, "lease"));
    // Another account's agent learns nothing of the job (the lease token should never reach it).
    if (!row?.execution || row.account !== token.account)
      return refuse(404, `No job ${jobId} attempt ${attempt} is running.`);
    const execution: ExecutionState = { ...decodeExecution(row.execution), document: row.document };
    const at = locate(execution, jobId, attempt);
    if (!at) return refuse(404, `No job ${jobId} attempt ${attempt} is running.`);
    if (at.attempt.status === "Queued" && !at.attempt.agent) {
      if (options.beforeAccept) return { ok: true, at, agentId: null };
      return refuse(409, "The server has not recorded the job's accept yet; ask again.");
    }
    if (at.attempt.status !== "InProgress" || !at.attempt.agent)
      return refuse(403, `Job ${jobId} attempt ${attempt} is over.`);
    const agentId = at.attempt.agent.id;
    if (row.leaseAgentId === null || row.leaseAgentId !== agentId)
      return refuse(403, `The lease of job ${jobId} attempt ${attempt} has ended.`);
    if (row.leaseTokenId !== token.id) return refuse(403, "Another agent holds this job's lease.");
    return { ok: true, at, agentId };
  }
}

/** The attempt, when it is its action's current one. */
function locate(execution: ExecutionState, jobId: string, attempt: number): AttemptLocation | undefined {
  for (const [stageIndex, stage] of execution.stages.entries()) {
    for (const [actionIndex, action] of stage.actions.entries()) {
      const current = currentAttempt(action);
      if (current?.actionExecutionId === jobId && current.attempt === attempt)
        return { execution, stageIndex, actionIndex, action, attempt: current };
    }
  }
  return undefined;
}
