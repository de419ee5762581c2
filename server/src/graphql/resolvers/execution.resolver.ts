import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
  UseMiddleware,
} from "type-graphql";
import { auditMutations } from "../audit";
import { srnOf, visibleItems } from "../../auth/authorization";
import { actingAccount, DEFAULT_ACCOUNT } from "../../auth/principal";
import { DomainError, NotFoundError } from "../../domain/errors";
import {
  emptyRuntime,
  stageStateView,
  type ActionExecutionView,
  type ExecutionView,
  type PipelineEvent,
} from "../../domain/execution";
import { DEFAULT_POOL } from "@sluice/protocol";
import type { AgentRow } from "../../persistence/agent-store";
import { asyncQueue } from "../async-queue";
import { followExecution } from "../execution-stream";
import type { GraphQLContext } from "../context";
import { shownConfiguration } from "../secrets";
import { Connection, PAGE_ARG_DESCRIPTIONS, pageQuery, toConnection } from "../types/connection";
import { PipelineExecutionStatusEnum } from "../types/enums";
import { JSONObjectScalar } from "../types/scalars";
import {
  ActionAttemptType,
  ActionExecutionType,
  AgentRefType,
  ApprovalDecisionType,
  ArtifactLocationType,
  PipelineEventType,
  PipelineExecutionType,
  PipelineStateType,
  StageExecutionType,
  TransitionStateType,
  WaitingReasonType,
} from "../types/execution.type";
import { PipelineVariableOverride, RetryModeEnum, SourceRevisionInput } from "../types/execution.input";
import { PipelineType } from "../types/pipeline.type";
import { stageInExecution, type StageInExecution } from "../mappers";
import {
  DisableStageTransitionInput,
  DisableStageTransitionPayload,
  EnableStageTransitionInput,
  EnableStageTransitionPayload,
  PutApprovalResultInput,
  PutApprovalResultPayload,
  RetryStageExecutionInput,
  RetryStageExecutionPayload,
  RollbackStageInput,
  RollbackStagePayload,
  StartPipelineExecutionInput,
  StartPipelineExecutionPayload,
  StopPipelineExecutionInput,
  StopPipelineExecutionPayload,
} from "../types/mutation-io";
import { payload, type InputOf } from "../types/mutation";
import { deprecated } from "../deprecations";

const PipelineExecutionConnection = Connection(PipelineExecutionType, "PipelineExecution");

const view = (row: { view: ExecutionView }): PipelineExecutionType => row.view;

/** enableStageTransition, disableStageTransition (and the deprecated toggleTransition). */
async function setTransition(
  ctx: GraphQLContext,
  pipelineName: string,
  stageName: string,
  enabled: boolean,
  reason: string | null,
): Promise<TransitionStateType> {
  const runtime = await ctx.engine.toggleTransition(pipelineName, stageName, enabled, reason, ctx.principal!);
  const transition = runtime.transitions[stageName];
  return {
    stageName,
    enabled: transition?.enabled ?? true,
    disabledReason: transition?.disabledReason ?? null,
    disabledBy: transition?.disabledBy ?? null,
    disabledAt: transition?.disabledAt ?? null,
  };
}

@Resolver(() => PipelineType)
export class PipelineStateResolver {
  @Authorized()
  @FieldResolver(() => PipelineStateType, {
    description: "What each stage works on now, what waits at its entry, and each action's latest run.",
  })
  async state(@Root() pipeline: PipelineType, @Ctx() ctx: GraphQLContext): Promise<PipelineStateType> {
    const runtime = (await ctx.engine.runtimeOf(pipeline.id)) ?? emptyRuntime(pipeline.name);
    const stages = stageStateView(runtime, pipeline.source).map((stage) => ({
      ...stage,
      inboundTransition: stage.inboundTransition && {
        stageName: stage.stageName,
        ...stage.inboundTransition,
      },
    }));
    return { stages };
  }

  @Authorized()
  @FieldResolver(() => PipelineExecutionConnection, { description: "Executions, the newest first." })
  async executions(
    @Root() pipeline: PipelineType,
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.first(20) })
    first: number | null,
    @Arg("after", () => String, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.after })
    after: string | null,
    @Arg("status", () => [PipelineExecutionStatusEnum], {
      nullable: true,
      description: "Only executions with one of these statuses.",
    })
    status: string[] | null,
    @Arg("last", () => Int, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.last }) last: number | null,
    @Arg("before", () => String, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.before })
    before: string | null,
  ) {
    const page = pageQuery({ first, after, last, before }, 20);
    const rows = await ctx.engine.executions.pageExecutions<ExecutionView>(pipeline.id, page, status);
    return toConnection(
      rows,
      page,
      (row) => row.cursor,
      view,
      () => ctx.engine.executions.countExecutions(pipeline.id, status),
    );
  }
}

@Resolver(() => PipelineExecutionType)
export class ExecutionResolver {
  @Authorized("sluice:GetPipelineExecution")
  @Query(() => PipelineExecutionType, { nullable: true })
  async pipelineExecution(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<PipelineExecutionType | null> {
    // The checker may have read the row already to find its pipeline.
    const row =
      ctx.executionReads.take<ExecutionView>(id) ??
      (await ctx.engine.executions.findExecution<ExecutionView>(id));
    return row ? row.view : null;
  }

  @FieldResolver(() => [StageExecutionType])
  stages(@Root() execution: ExecutionView): StageInExecution[] {
    return execution.stages.map((stage) => stageInExecution(execution, stage));
  }

  @FieldResolver(() => [PipelineEventType], { description: "The execution's history, in sequence order." })
  async events(
    @Root() execution: PipelineExecutionType,
    @Ctx() ctx: GraphQLContext,
    @Arg("afterSequence", () => Int, { defaultValue: 0 }) afterSequence: number,
  ): Promise<PipelineEventType[]> {
    return ctx.engine.executions.eventsOf<PipelineEvent>(execution.executionId, afterSequence);
  }

  @Authorized("sluice:StartPipelineExecution")
  @UseMiddleware(auditMutations)
  @Mutation(() => StartPipelineExecutionPayload, {
    description:
      "Starts an execution with the given source revisions (or the latest of each source) and variable overrides. The same clientRequestToken twice starts one execution.",
  })
  async startPipelineExecution(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => StartPipelineExecutionInput) input: InputOf<typeof StartPipelineExecutionInput>,
  ) {
    const clientRequestToken = input.clientRequestToken ?? null;
    if (clientRequestToken !== null && !/^[A-Za-z0-9_-]{1,128}$/.test(clientRequestToken)) {
      throw badInput(
        "clientRequestToken",
        "clientRequestToken must be 1–128 characters from A-Z a-z 0-9 _ -.",
      );
    }
    const row = await ctx.engine.releaseChange({
      account: actingAccount(ctx.principal!),
      pipelineName: input.pipelineName,
      sourceRevisions: (input.sourceRevisions ?? []).map((r) => ({
        actionName: r.actionName,
        revisionId: r.revisionId,
        revisionSummary: r.revisionSummary ?? null,
        revisionUrl: r.revisionUrl ?? null,
      })),
      variables: Object.fromEntries((input.variables ?? []).map((v) => [v.name, v.value])),
      clientRequestToken,
      trigger: { triggerType: "StartPipelineExecution", triggerDetail: ctx.principal!.id },
    });
    return payload(input, { pipelineExecution: row.view });
  }

  @Authorized("sluice:StartPipelineExecution")
  @UseMiddleware(auditMutations)
  @Mutation(() => PipelineExecutionType, {
    description: "Starts an execution.",
    ...deprecated("releaseChange"),
  })
  async releaseChange(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName") pipelineName: string,
    @Arg("sourceRevisions", () => [SourceRevisionInput], { nullable: true })
    sourceRevisions: SourceRevisionInput[] | null,
    @Arg("variables", () => [PipelineVariableOverride], { nullable: true })
    variables: PipelineVariableOverride[] | null,
    @Arg("clientRequestToken", () => String, { nullable: true }) clientRequestToken: string | null,
  ): Promise<PipelineExecutionType> {
    const input = { pipelineName, sourceRevisions, variables, clientRequestToken };
    return (await this.startPipelineExecution(ctx, input)).pipelineExecution;
  }

  @Authorized("sluice:StopPipelineExecution")
  @UseMiddleware(auditMutations)
  @Mutation(() => StopPipelineExecutionPayload, {
    description: "abandon false: running actions finish, then Stopped; true: they are abandoned at once.",
  })
  async stopPipelineExecution(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => StopPipelineExecutionInput) input: InputOf<typeof StopPipelineExecutionInput>,
  ) {
    if (input.reason.length > 200) throw badInput("reason", "reason must be at most 200 characters.");
    const row = await ctx.engine.stopExecution(
      input.executionId,
      input.abandon,
      input.reason,
      ctx.principal!,
    );
    return payload(input, { pipelineExecution: view(row) });
  }

  @Authorized("sluice:StopPipelineExecution")
  @UseMiddleware(auditMutations)
  @Mutation(() => PipelineExecutionType, {
    description: "Stops an execution.",
    ...deprecated("stopExecution"),
  })
  async stopExecution(
    @Ctx() ctx: GraphQLContext,
    @Arg("executionId", () => ID) executionId: string,
    @Arg("abandon", { defaultValue: false }) abandon: boolean,
    @Arg("reason", () => String, { defaultValue: "" }) reason: string,
  ): Promise<PipelineExecutionType> {
    return (await this.stopPipelineExecution(ctx, { executionId, abandon, reason })).pipelineExecution;
  }

  @Authorized("sluice:RetryStageExecution")
  @UseMiddleware(auditMutations)
  @Mutation(() => RetryStageExecutionPayload, {
    description: "Re-runs a failed or stopped stage of the latest execution in it.",
  })
  async retryStageExecution(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => RetryStageExecutionInput) input: InputOf<typeof RetryStageExecutionInput>,
  ) {
    const row = await ctx.engine.retryStage(input.executionId, input.stageName, input.mode, ctx.principal!);
    return payload(input, { pipelineExecution: view(row) });
  }

  @Authorized("sluice:RetryStageExecution")
  @UseMiddleware(auditMutations)
  @Mutation(() => PipelineExecutionType, {
    description: "Re-runs a failed or stopped stage.",
    ...deprecated("retryStage"),
  })
  async retryStage(
    @Ctx() ctx: GraphQLContext,
    @Arg("executionId", () => ID) executionId: string,
    @Arg("stageName") stageName: string,
    @Arg("mode", () => RetryModeEnum, { defaultValue: RetryModeEnum.FAILED_ACTIONS }) mode: RetryModeEnum,
  ): Promise<PipelineExecutionType> {
    return (await this.retryStageExecution(ctx, { executionId, stageName, mode })).pipelineExecution;
  }

  @Authorized("sluice:RollbackStage")
  @UseMiddleware(auditMutations)
  @Mutation(() => RollbackStagePayload, {
    description:
      "Starts an execution that re-runs one stage with the artifacts and variables of an earlier execution that succeeded there.",
  })
  async rollbackStageV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => RollbackStageInput) input: InputOf<typeof RollbackStageInput>,
  ) {
    const row = await ctx.engine.rollbackStage(
      input.pipelineName,
      input.stageName,
      input.targetExecutionId,
      ctx.principal!,
    );
    return payload(input, { pipelineExecution: view(row) });
  }

  @Authorized("sluice:RollbackStage")
  @UseMiddleware(auditMutations)
  @Mutation(() => PipelineExecutionType, {
    description: "Starts an execution that re-runs one stage as an earlier execution ran it.",
    ...deprecated("rollbackStage"),
  })
  async rollbackStage(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName") pipelineName: string,
    @Arg("stageName") stageName: string,
    @Arg("targetExecutionId", () => ID) targetExecutionId: string,
  ): Promise<PipelineExecutionType> {
    const input = { pipelineName, stageName, targetExecutionId };
    return (await this.rollbackStageV2(ctx, input)).pipelineExecution;
  }

  @Authorized("sluice:PutApprovalResult")
  @UseMiddleware(auditMutations)
  @Mutation(() => PutApprovalResultPayload, {
    description: "Approves or rejects a pending manual approval, once.",
  })
  async putApprovalResultV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => PutApprovalResultInput) input: InputOf<typeof PutApprovalResultInput>,
  ) {
    const { actionExecutionId, approved, summary } = input;
    if (summary.length > 512) throw badInput("summary", "summary must be at most 512 characters.");
    const row = await ctx.engine.putApprovalResult(actionExecutionId, approved, summary, ctx.principal!);
    const action = row.view.stages
      .flatMap((stage) => stageInExecution(row.view, stage).actions)
      .find((a) => a.attempts.some((t) => t.actionExecutionId === actionExecutionId));
    if (!action) throw new NotFoundError(`No action execution ${actionExecutionId} exists.`);
    return payload(input, { actionExecution: action });
  }

  @Authorized("sluice:PutApprovalResult")
  @UseMiddleware(auditMutations)
  @Mutation(() => ActionExecutionType, {
    description: "Approves or rejects a pending manual approval, once.",
    ...deprecated("putApprovalResult"),
  })
  async putApprovalResult(
    @Ctx() ctx: GraphQLContext,
    @Arg("actionExecutionId", () => ID) actionExecutionId: string,
    @Arg("approved") approved: boolean,
    @Arg("summary", () => String, { defaultValue: "" }) summary: string,
  ): Promise<ActionExecutionType> {
    const input = { actionExecutionId, approved, summary };
    return (await this.putApprovalResultV2(ctx, input)).actionExecution;
  }

  @Authorized("sluice:EnableStageTransition")
  @UseMiddleware(auditMutations)
  @Mutation(() => EnableStageTransitionPayload, {
    description: "Opens a stage's inbound transition: the execution waiting there goes in.",
  })
  async enableStageTransition(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => EnableStageTransitionInput) input: InputOf<typeof EnableStageTransitionInput>,
  ) {
    const transition = await setTransition(ctx, input.pipelineName, input.stageName, true, null);
    return payload(input, { transition });
  }

  @Authorized("sluice:DisableStageTransition")
  @UseMiddleware(auditMutations)
  @Mutation(() => DisableStageTransitionPayload, {
    description: "Closes a stage's inbound transition: executions arriving at the stage wait there.",
  })
  async disableStageTransition(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => DisableStageTransitionInput) input: InputOf<typeof DisableStageTransitionInput>,
  ) {
    const transition = await setTransition(ctx, input.pipelineName, input.stageName, false, input.reason);
    return payload(input, { transition });
  }

  @Authorized("sluice:DisableStageTransition")
  @UseMiddleware(auditMutations)
  @Mutation(() => TransitionStateType, {
    description:
      "Disabling holds executions arriving at the stage (a reason is required); enabling lets the waiting one in.",
    ...deprecated("toggleTransition"),
  })
  async toggleTransition(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName") pipelineName: string,
    @Arg("stageName") stageName: string,
    @Arg("enabled") enabled: boolean,
    @Arg("reason", () => String, { nullable: true }) reason: string | null,
  ): Promise<TransitionStateType> {
    return setTransition(ctx, pipelineName, stageName, enabled, reason);
  }

  @Authorized("sluice:GetPipeline")
  @Subscription(() => PipelineEventType, {
    description:
      "Every execution, stage, action and transition change of a pipeline (of every pipeline with no name).",
    subscribe: ({ args, context }) => {
      const { pipelineName } = args as { pipelineName?: string | null };
      const ctx = context as GraphQLContext;
      // Of the account the caller acts in only; of every pipeline: only those the caller may read
      // the state of (sluice:GetPipelineState).
      const account = actingAccount(ctx.principal!);
      const visible = (name: string) =>
        visibleItems(ctx.principal, "sluice:GetPipelineState", [name], (n) => srnOf.pipeline(account, n))
          .length > 0;
      return subscribeEvents(
        ctx,
        (e) =>
          (e.account ?? DEFAULT_ACCOUNT) === account &&
          (pipelineName ? e.pipelineName === pipelineName : visible(e.pipelineName)),
      );
    },
  })
  pipelineEvents(
    @Root() event: PipelineEvent,
    @Arg("pipelineName", () => String, { nullable: true }) _pipelineName: string | null,
  ): PipelineEventType {
    return event;
  }

  @Authorized("sluice:GetPipelineExecution")
  @Subscription(() => PipelineEventType, {
    description:
      "Every change of one execution, in sequence order. With afterSequence (0: from the start), the stored events after it come first, then the live ones, with no gap and no repeat; without it, only the changes from now on. Completes when the execution is final (Succeeded, Failed, Stopped, Superseded, Cancelled; at once if it already is): a retry resumes a Failed or Stopped one, and a client that wants its events subscribes again with afterSequence. An unknown execution is a NOT_FOUND error.",
    subscribe: ({ args, context }) => {
      const { executionId, afterSequence } = args as { executionId: string; afterSequence?: number | null };
      return followExecution(context as GraphQLContext, executionId, afterSequence ?? null);
    },
  })
  executionEvents(
    @Root() event: PipelineEvent,
    @Arg("executionId", () => ID) _executionId: string,
    @Arg("afterSequence", () => Int, {
      nullable: true,
      description: "Replay the stored events after this sequence first (0: all of them).",
    })
    _afterSequence: number | null,
  ): PipelineEventType {
    return event;
  }
}

function subscribeEvents(
  ctx: GraphQLContext,
  accept: (event: PipelineEvent) => boolean,
): AsyncIterableIterator<PipelineEvent> {
  let detach = () => {};
  const queue = asyncQueue<PipelineEvent>(() => detach());
  detach = ctx.events.listen((event) => {
    if (accept(event)) queue.push(event);
  });
  return queue.iterator;
}

function badInput(path: string, message: string): DomainError {
  return new DomainError("BAD_USER_INPUT", message, { validationErrors: [{ path, message }] });
}

/** Fields of an action's current attempt that the view keeps only per attempt. */
@Resolver(() => ActionExecutionType)
export class ActionExecutionResolver {
  @FieldResolver(() => WaitingReasonType, {
    nullable: true,
    description:
      "Why it does not run yet: RUN_ORDER (lower runOrders first), NO_AGENT (no online agent of its pool runs its type), QUEUED (such agents exist but none has taken it yet: all busy, or it is on its way).",
  })
  async waitingReason(
    @Root() action: ActionExecutionView,
    @Ctx() ctx: GraphQLContext,
  ): Promise<WaitingReasonType | null> {
    const reason = action.waitingReason;
    if (reason?.code !== "NO_AGENT") return reason;
    const pool = action.region ?? DEFAULT_POOL;
    const type = action.actionTypeId;
    const serving = (await onlineAgents(ctx)).filter(
      (agent) =>
        agent.pool === pool &&
        agent.providers.some(
          (p) =>
            p.category === type.category &&
            p.owner === type.owner &&
            p.provider === type.provider &&
            p.version === type.version,
        ),
    );
    const what = `${type.category}/${type.owner}/${type.provider}@${type.version}`;
    if (serving.length === 0) {
      return {
        ...reason,
        message: `No online agent of pool "${pool}" runs ${what}: start one with --pool ${pool} --providers ${what}.`,
      };
    }
    const free = serving.filter((agent) => agent.running.length < agent.capacity);
    return {
      ...reason,
      code: "QUEUED",
      message:
        free.length === 0
          ? `All ${serving.length} agent(s) of pool "${pool}" that run ${what} are busy; it starts when one has a free slot.`
          : `Dispatched to ${serving.length} agent(s) of pool "${pool}" that run ${what}; one is taking it.`,
    };
  }

  @FieldResolver(() => JSONObjectScalar, { nullable: true })
  resolvedConfiguration(
    @Root() action: ActionExecutionView,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Record<string, string> | null> {
    return shownConfiguration(ctx, action.actionTypeId, action.resolvedConfiguration);
  }

  @FieldResolver(() => [ActionAttemptType])
  async attempts(
    @Root() action: ActionExecutionView,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ActionAttemptType[]> {
    return Promise.all(
      action.attempts.map(async (attempt) => {
        const shown = await shownConfiguration(ctx, action.actionTypeId, attempt.resolvedConfiguration);
        return shown === attempt.resolvedConfiguration
          ? attempt
          : { ...attempt, resolvedConfiguration: shown };
      }),
    );
  }

  @FieldResolver(() => AgentRefType, {
    nullable: true,
    description: "The agent that ran the current attempt.",
  })
  agent(@Root() action: ActionExecutionView): AgentRefType | null {
    return currentAttempt(action)?.agent ?? null;
  }

  @FieldResolver(() => [ArtifactLocationType])
  inputArtifacts(@Root() action: ActionExecutionView): ArtifactLocationType[] {
    return currentAttempt(action)?.inputArtifacts ?? [];
  }

  @FieldResolver(() => [ArtifactLocationType])
  outputArtifacts(@Root() action: ActionExecutionView): ArtifactLocationType[] {
    return currentAttempt(action)?.outputArtifacts ?? [];
  }

  @FieldResolver(() => JSONObjectScalar)
  outputVariables(@Root() action: ActionExecutionView): Record<string, string> {
    return currentAttempt(action)?.outputVariables ?? {};
  }

  @FieldResolver(() => ApprovalDecisionType, {
    nullable: true,
    description: "Who approved or rejected, and when.",
  })
  approval(@Root() action: ActionExecutionView): ApprovalDecisionType | null {
    return currentAttempt(action)?.approval ?? null;
  }
}

/**
 * The agents not offline of the account the caller acts in (the only account whose executions it
 * reads), read once per request however many actions ask.
 */
const onlineAgentsOf = new WeakMap<GraphQLContext, Promise<AgentRow[]>>();
function onlineAgents(ctx: GraphQLContext): Promise<AgentRow[]> {
  let agents = onlineAgentsOf.get(ctx);
  if (!agents) {
    const account = ctx.principal ? actingAccount(ctx.principal) : DEFAULT_ACCOUNT;
    agents = ctx.agents
      .list({ account })
      .then((all) => all.filter((a) => a.status !== "offline" && !a.revoked));
    onlineAgentsOf.set(ctx, agents);
  }
  return agents;
}

function currentAttempt(action: ActionExecutionView) {
  return action.attempts.find((a) => a.actionExecutionId === action.actionExecutionId);
}
