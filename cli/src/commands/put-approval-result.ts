import type { Command } from "commander";
import { isObject } from "../client";
import type { ContextFactory } from "../context";
import { CliError, UsageError } from "../errors";
import { parseJsonText } from "../input";

export const APPROVAL_LOOKUP_QUERY =
  "query($id:ID!){ pipelineExecution(id:$id){ id pipelineName stages{ name actions{ name id status approvalPending actionTypeId{ category provider } } } } }";
export const PUT_APPROVAL_RESULT_MUTATION =
  "mutation($actionExecutionId:ID!,$approved:Boolean!,$summary:String!){ putApprovalResultV2(input:{actionExecutionId:$actionExecutionId, approved:$approved, summary:$summary}){ actionExecution{ id name status summary approvalPending approval{ approved summary by at } } } }";

interface ApprovalLookupData {
  pipelineExecution: {
    id: string;
    pipelineName: string;
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
  putApprovalResultV2: { actionExecution: { approval?: { at?: string } | null } & Record<string, unknown> };
}

interface ApprovalOptions {
  actionExecutionId?: string;
  pipelineExecutionId?: string;
  pipelineName?: string;
  stageName?: string;
  actionName?: string;
  approve?: boolean;
  reject?: boolean;
  summary?: string;
  result?: string;
}

/** What `--result` decides, in the AWS CLI's shape: `{"summary":"...","status":"Approved|Rejected"}`. */
export interface ApprovalResult {
  status: "Approved" | "Rejected";
  summary?: string;
}

const RESULT_SHAPE = '{"summary":"...","status":"Approved|Rejected"}';
const RESULT_KEYS = ["summary", "status"];

/** Parses `--result`; anything but the AWS CLI's shape is a UsageError. */
export function parseApprovalResult(text: string): ApprovalResult {
  const value = /^\s*\{/.test(text) ? parseJsonText(text, "--result") : undefined;
  if (!isObject(value)) throw new UsageError(`--result must be a JSON object: ${RESULT_SHAPE}`);
  const unknown = Object.keys(value).find((key) => !RESULT_KEYS.includes(key));
  if (unknown !== undefined) {
    throw new UsageError(`--result has an unknown key ${JSON.stringify(unknown)}: ${RESULT_SHAPE}`);
  }
  const { status, summary } = value;
  if (status !== "Approved" && status !== "Rejected") {
    const given = status === undefined ? "missing" : JSON.stringify(status);
    throw new UsageError(`--result "status" must be "Approved" or "Rejected" (it is ${given})`);
  }
  if (summary !== undefined && typeof summary !== "string") {
    throw new UsageError(`--result "summary" must be a string`);
  }
  return summary === undefined ? { status } : { status, summary };
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
    .option(
      "--pipeline-name <name>",
      "AWS CLI option: with the names, exit 1 unless the execution belongs to this pipeline; not checked with --action-execution-id",
    )
    .option("--stage-name <name>", "...the stage...")
    .option("--action-name <name>", "...and the approval action's name")
    .option("--approve", "approve: the execution goes on")
    .option("--reject", "reject: the action and its stage fail")
    .option("--summary <text>", "a comment kept with the decision (at most 512 characters)")
    .option("--result <json>", `the AWS CLI's form of --approve/--reject and --summary: '${RESULT_SHAPE}'`)
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<ApprovalOptions>();
      const { approved, summary } = decisionOf(opts);
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
          const awsForm = opts.result !== undefined || opts.pipelineName !== undefined;
          throw new UsageError(
            `give --action-execution-id, or all of ${BY_NAMES}${awsForm ? TOKEN_HINT : ""}`,
          );
        }
        const data = await ctx.request<ApprovalLookupData>(APPROVAL_LOOKUP_QUERY, { id: executionId });
        if (!data.pipelineExecution) throw new CliError(`execution ${executionId} not found`);
        const belongsTo = data.pipelineExecution.pipelineName;
        if (opts.pipelineName !== undefined && belongsTo !== opts.pipelineName) {
          throw new CliError(
            `execution ${executionId} belongs to pipeline ${belongsTo}, not ${opts.pipelineName}`,
          );
        }
        actionExecutionId = pendingApproval(data.pipelineExecution, stageName, actionName);
      }
      const data = await ctx.request<PutApprovalResultData>(PUT_APPROVAL_RESULT_MUTATION, {
        actionExecutionId,
        approved,
        summary: summary ?? "",
      });
      // AWS prints { approvedAt }; Sluice adds the approval action as it is now.
      const action = data.putApprovalResultV2.actionExecution;
      ctx.print({ approvedAt: action.approval?.at ?? null, ...action });
    });
}

/** The AWS CLI's `--token` (the approval token) cannot be an option here: it is the global one. */
const TOKEN_HINT =
  " (the approval token the AWS CLI takes as --token is --action-execution-id here; sluice's --token is the API bearer token)";

/**
 * The decision and summary from --approve/--reject and --summary, or from the AWS CLI's --result;
 * a UsageError when none is chosen or two options disagree.
 */
function decisionOf(opts: ApprovalOptions): { approved: boolean; summary: string | undefined } {
  if (opts.approve && opts.reject) throw new UsageError("choose one of --approve and --reject, not both");
  const flag = opts.approve ? "--approve" : opts.reject ? "--reject" : undefined;
  if (opts.result === undefined) {
    if (flag === undefined) throw new UsageError("choose --approve or --reject (or give --result)");
    return { approved: flag === "--approve", summary: opts.summary };
  }
  const result = parseApprovalResult(opts.result);
  const approved = result.status === "Approved";
  if (flag !== undefined && approved !== (flag === "--approve")) {
    throw new UsageError(
      `${flag} and --result "status" ${JSON.stringify(result.status)} disagree; give one of them`,
    );
  }
  if (opts.summary !== undefined && result.summary !== undefined && opts.summary !== result.summary) {
    throw new UsageError(
      `--summary ${JSON.stringify(opts.summary)} and --result "summary" ${JSON.stringify(result.summary)} disagree; give one of them`,
    );
  }
  return { approved, summary: opts.summary ?? result.summary };
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
