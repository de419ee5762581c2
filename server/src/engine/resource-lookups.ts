import type { ResourceLookups } from "../domain/policy";
import type { AccountStore } from "../persistence/account-store";
import type { IdentityStore } from "../persistence/identity-store";
import type { ExecutionEngine } from "./execution-engine";

/** What the authorization checker asks to find the pipeline (and stage, action) behind an id. */
export function resourceLookups(
  engine: ExecutionEngine,
  identity: IdentityStore,
  accounts: AccountStore,
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
      return engine.executions.pipelineOfExecution(executionId);
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
