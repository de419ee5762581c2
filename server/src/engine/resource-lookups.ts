import type { ResourceLookups } from "../domain/policy";
import type { AccountStore } from "../persistence/account-store";
import type { ExecutionRow } from "../persistence/execution-store";
import type { IdentityStore } from "../persistence/identity-store";
import type { ExecutionEngine } from "./execution-engine";

/**
 * The execution rows the checker read while it authorized one GraphQL operation, for that
 * operation's resolver: `pipelineExecution(id)` costs one statement, not one to authorize and one
 * to answer. A row is handed out once, so nothing read for one operation is served to another.
 */
export class ExecutionReads {
  private readonly rows = new Map<string, ExecutionRow<unknown>>();

  keep(row: ExecutionRow<unknown>): void {
    this.rows.set(row.id, row);
  }

  /** The row read for this operation, if the checker read it (once). */
  take<View>(id: string): ExecutionRow<View> | undefined {
    const row = this.rows.get(id);
    this.rows.delete(id);
    return row as ExecutionRow<View> | undefined;
  }
}

/**
 * What the authorization checker asks to find the pipeline (and stage, action) behind an id. With
 * `reads` (one GraphQL operation's), an execution it reads whole is kept there for the resolver.
 */
export function resourceLookups(
  engine: ExecutionEngine,
  identity: IdentityStore,
  accounts: AccountStore,
  reads?: ExecutionReads,
): ResourceLookups {
  return {
    async principalOfApiToken(tokenId) {
      const token = await identity.apiToken(tokenId);
      return token
        ? { account: token.ownerAccount, principal: `${token.ownerKind}/${token.ownerName}` }
        : null;
    },
    async trustPolicyOfRole(account, name) {
      return (await accounts.role(account, name))?.trustPolicy ?? null;
    },
    async pipelineOfExecution(executionId) {
      return engine.executions.pipelineOfExecution(executionId, reads && ((row) => reads.keep(row)));
    },
    async actionOfActionExecution(actionExecutionId) {
      const found = await engine.findAttempt(actionExecutionId);
      if (!found) return null;
      const pipeline = await engine.executions.pipelineOfExecution(found.execution.id);
      if (!pipeline) return null;
      const stage = found.execution.view.stages.find((s) =>
        s.actions.some((a) => a.attempts.some((t) => t.actionExecutionId === actionExecutionId)),
      );
      return stage
        ? {
            account: pipeline.account,
            pipeline: found.execution.view.pipelineName,
            stage: stage.stageName,
            action: found.actionName,
          }
        : null;
    },
  };
}
