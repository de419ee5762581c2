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

const PipelineExecutionConnection = Connection(PipelineExecutionType, "PipelineExecution");

const view = (row: { view: ExecutionView }): PipelineExecutionType => row.view;

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
    const row = await ctx.engine.executions.findExecution<ExecutionView>(id);
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
  @Mutation(() => PipelineExecutionType, {
    description:
      "Starts an execution with the given source revisions (or the latest of each source) and variable overrides. The same clientRequestToken twice starts one execution.",
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
    if (clientRequestToken !== null && !/^[A-Za-z0-9_-]{1,128}$/.test(clientRequestToken)) {
      throw badInput(
        "clientRequestToken",
        "clientRequestToken must be 1–128 characters from A-Z a-z 0-9 _ -.",
      );
    }
    const row = await ctx.engine.releaseChange({
      pipelineName,
      sourceRevisions: (sourceRevisions ?? []).map((r) => ({
        actionName: r.actionName,
        revisionId: r.revisionId,
        revisionSummary: r.revisionSummary ?? null,
        revisionUrl: r.revisionUrl ?? null,
      })),
      variables: Object.fromEntries((variables ?? []).map((v) => [v.name, v.value])),
      clientRequestToken,
      trigger: { triggerType: "StartPipelineExecution", triggerDetail: ctx.principal!.id },
    });
    return row.view;
  }

  @Authorized("sluice:StopPipelineExecution")
  @UseMiddleware(auditMutations)
  @Mutation(() => PipelineExecutionType, {
    description: "abandon false: running actions finish, then Stopped; true: they are abandoned at once.",
  })
  async stopExecution(
    @Ctx() ctx: GraphQLContext,
    @Arg("executionId", () => ID) executionId: string,
    @Arg("abandon", { defaultValue: false }) abandon: boolean,
    @Arg("reason", () => String, { defaultValue: "" }) reason: string,
  ): Promise<PipelineExecutionType> {
    if (reason.length > 200) throw badInput("reason", "reason must be at most 200 characters.");
    return view(await ctx.engine.stopExecution(executionId, abandon, reason, ctx.principal!));
  }

  @Authorized("sluice:RetryStageExecution")
  @UseMiddleware(auditMutations)
  @Mutation(() => PipelineExecutionType, {
    description: "Re-runs a failed or stopped stage of the latest execution in it.",
  })
  async retryStage(
    @Ctx() ctx: GraphQLContext,
    @Arg("executionId", () => ID) executionId: string,
    @Arg("stageName") stageName: string,
    @Arg("mode", () => RetryModeEnum, { defaultValue: RetryModeEnum.FAILED_ACTIONS }) mode: RetryModeEnum,
  ): Promise<PipelineExecutionType> {
    return view(await ctx.engine.retryStage(executionId, stageName, mode, ctx.principal!));
  }

  @Authorized("sluice:RollbackStage")
  @UseMiddleware(auditMutations)
  @Mutation(() => PipelineExecutionType, {
    description:
      "Starts an execution that re-runs one stage with the artifacts and variables of an earlier execution that succeeded there.",
  })
  async rollbackStage(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName") pipelineName: string,
    @Arg("stageName") stageName: string,
    @Arg("targetExecutionId", () => ID) targetExecutionId: string,
  ): Promise<PipelineExecutionType> {
    return view(await ctx.engine.rollbackStage(pipelineName, stageName, targetExecutionId, ctx.principal!));
  }

  @Authorized("sluice:PutApprovalResult")
  @UseMiddleware(auditMutations)
  @Mutation(() => ActionExecutionType, {
    description: "Approves or rejects a pending manual approval, once.",
  })
  async putApprovalResult(
    @Ctx() ctx: GraphQLContext,
    @Arg("actionExecutionId", () => ID) actionExecutionId: string,
    @Arg("approved") approved: boolean,
    @Arg("summary", () => String, { defaultValue: "" }) summary: string,
  ): Promise<ActionExecutionType> {
    if (summary.length > 512) throw badInput("summary", "summary must be at most 512 characters.");
    const row = await ctx.engine.putApprovalResult(actionExecutionId, approved, summary, ctx.principal!);
    const action = row.view.stages
      .flatMap((stage) => stageInExecution(row.view, stage).actions)
      .find((a) => a.attempts.some((t) => t.actionExecutionId === actionExecutionId));
    if (!action) throw new NotFoundError(`No action execution ${actionExecutionId} exists.`);
    return action;
  }

  @Authorized("sluice:DisableStageTransition")
  @UseMiddleware(auditMutations)
  @Mutation(() => TransitionStateType, {
    description:
      "Disabling holds executions arriving at the stage (a reason is required); enabling lets the waiting one in.",
  })
  async toggleTransition(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName") pipelineName: string,
    @Arg("stageName") stageName: string,
    @Arg("enabled") enabled: boolean,
    @Arg("reason", () => String, { nullable: true }) reason: string | null,
  ): Promise<TransitionStateType> {
    const runtime = await ctx.engine.toggleTransition(
      pipelineName,
      stageName,
      enabled,
      reason,
      ctx.principal!,
    );
    const transition = runtime.transitions[stageName];
    return {
      stageName,
      enabled: transition?.enabled ?? true,
      disabledReason: transition?.disabledReason ?? null,
      disabledBy: transition?.disabledBy ?? null,
      disabledAt: transition?.disabledAt ?? null,
    };
  }

  @Authorized("sluice:GetPipeline")
  @Subscription(() => PipelineEventType, {
    description:
      "Every execution, stage, action and transition change of a pipeline (of every pipeline with no name).",
    subscribe: ({ args, context }) => {
      const { pipelineName } = args as { pipelineName?: string | null };
      const ctx = context as GraphQLContext;
      // Of every pipeline: only those the caller may read the state of (sluice:GetPipelineState).
      const visible = (name: string) =>
        visibleItems(ctx.principal, "sluice:GetPipelineState", [name], srnOf.pipeline).length > 0;
      return subscribeEvents(ctx, (e) =>
        pipelineName ? e.pipelineName === pipelineName : visible(e.pipelineName),
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

/** The agents not offline, read once per request however many actions ask. */
const onlineAgentsOf = new WeakMap<GraphQLContext, Promise<AgentRow[]>>();
function onlineAgents(ctx: GraphQLContext): Promise<AgentRow[]> {
  let agents = onlineAgentsOf.get(ctx);
  if (!agents) {
    agents = ctx.agents.list().then((all) => all.filter((a) => a.status !== "offline" && !a.revoked));
    onlineAgentsOf.set(ctx, agents);
  }
  return agents;
}

function currentAttempt(action: ActionExecutionView) {
  return action.attempts.find((a) => a.actionExecutionId === action.actionExecutionId);
}
