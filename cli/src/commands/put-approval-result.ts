import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { CliError, UsageError } from "../errors";

export const APPROVAL_LOOKUP_QUERY =
  "query($id:ID!){ pipelineExecution(id:$id){ id stages{ name actions{ name id status approvalPending actionTypeId{ category provider } } } } }";
export const PUT_APPROVAL_RESULT_MUTATION =
  "mutation($actionExecutionId:ID!,$approved:Boolean!,$summary:String!){ putApprovalResult(actionExecutionId:$actionExecutionId, approved:$approved, summary:$summary){ id name status summary approvalPending approval{ approved summary by at } } }";

interface ApprovalLookupData {
  pipelineExecution: {
    id: string;
    stages: {
      name: string;
      actions: {
        name: string;
        id: string | null;
        status: string | null;
        approvalPending: boolean;
        actionTypeId: { category: string; provider: string };
      }[];
    }[];
  } | null;
}

interface PutApprovalResultData {
  putApprovalResult: unknown;
}

interface ApprovalOptions {
  actionExecutionId?: string;
  pipelineExecutionId?: string;
  stageName?: string;
  actionName?: string;
  approve?: boolean;
  reject?: boolean;
  summary?: string;
}

const BY_NAMES = "--pipeline-execution-id, --stage-name and --action-name";

export function register(program: Command, context: ContextFactory): void {
  program
    .command("put-approval-result")
    .description(
      "Approve or reject a pending manual approval (by attempt id, or by execution, stage and action).",
    )
    .option("--action-execution-id <id>", "the approval's current attempt id")
    .option("--pipeline-execution-id <id>", "instead of --action-execution-id: the execution...")
    .option("--stage-name <name>", "...the stage...")
    .option("--action-name <name>", "...and the approval action's name")
    .option("--approve", "approve: the execution goes on")
    .option("--reject", "reject: the action and its stage fail")
    .option("--summary <text>", "a comment kept with the decision (at most 512 characters)")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<ApprovalOptions>();
      if (opts.approve && opts.reject) throw new UsageError("choose one of --approve and --reject, not both");
      if (!opts.approve && !opts.reject) throw new UsageError("choose --approve or --reject");
      const names = [opts.pipelineExecutionId, opts.stageName, opts.actionName];
      let actionExecutionId: string;
      if (opts.actionExecutionId !== undefined) {
        if (names.some((n) => n !== undefined)) {
          throw new UsageError(`give either --action-execution-id or ${BY_NAMES}, not both`);
        }
        actionExecutionId = opts.actionExecutionId;
      } else {
        const [executionId, stageName, actionName] = names;
        if (executionId === undefined || stageName === undefined || actionName === undefined) {
          throw new UsageError(`give --action-execution-id, or all of ${BY_NAMES}`);
        }
        const data = await ctx.request<ApprovalLookupData>(APPROVAL_LOOKUP_QUERY, { id: executionId });
        if (!data.pipelineExecution) throw new CliError(`execution ${executionId} not found`);
        actionExecutionId = pendingApproval(data.pipelineExecution, stageName, actionName);
      }
      const data = await ctx.request<PutApprovalResultData>(PUT_APPROVAL_RESULT_MUTATION, {
        actionExecutionId,
        approved: opts.approve === true,
        summary: opts.summary ?? "",
      });
      ctx.print(data.putApprovalResult);
    });
}

/** The current attempt id of the named approval, which must be waiting for a decision. */
function pendingApproval(
  execution: NonNullable<ApprovalLookupData["pipelineExecution"]>,
  stageName: string,
  actionName: string,
): string {
  const stage = execution.stages.find((s) => s.name === stageName);
  if (!stage) {
    const stages = execution.stages.map((s) => s.name).join(", ") || "none";
    throw new CliError(`execution ${execution.id} has no stage ${stageName}; its stages: ${stages}`);
  }
  const action = stage.actions.find((a) => a.name === actionName);
  if (!action) {
    const actions = stage.actions.map((a) => a.name).join(", ") || "none";
    throw new CliError(
      `stage ${stageName} of execution ${execution.id} has no action ${actionName}; its actions: ${actions}`,
    );
  }
  const label = `action ${stageName}/${actionName} of execution ${execution.id}`;
  if (action.actionTypeId.category !== "Approval") {
    throw new CliError(`${label} is not an approval (it is a ${action.actionTypeId.category} action)`);
  }
  if (!action.approvalPending || action.id === null) {
    throw new CliError(`${label} is not waiting for a decision (status: ${action.status ?? "not started"})`);
  }
  return action.id;
}
