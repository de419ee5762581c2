/**
 * The output of the commands `aws codepipeline` also has, in its shape: AWS's field names
 * (`pipelineExecutionId`, `stageStates`, `actionStates`, `created`, ...) so that a script's `--query`
 * or `jq` path works with `sluice` in place of `aws codepipeline`. What Sluice adds (e.g. an execution's
 * `pipelineVersion` and `stages`, a stage's `waitingExecutions`) follows under its own names.
 */

type Fields = Record<string, unknown>;

/** An execution as the API returns it (`id`), as AWS names it (`pipelineExecutionId`). */
export function awsExecution<T extends { id: unknown }>({ id, ...rest }: T): Fields {
  return { pipelineExecutionId: id, ...rest };
}

export interface StageStateNode {
  name: string;
  inboundTransition: {
    enabled: boolean;
    disabledReason: string | null;
    disabledBy: string | null;
    disabledAt: string | null;
  } | null;
  latestExecution: { executionId: string; status: string } | null;
  waitingExecutions: { executionId: string; [field: string]: unknown }[];
  actions: {
    name: string;
    latestExecution: ({ executionId: string; externalUrl?: unknown } & Fields) | null;
  }[];
}

/**
 * A stage of `get-pipeline-state` as AWS's `stageStates[]`: `stageName`, `inboundTransitionState`
 * (`enabled`, `disabledReason`, `lastChangedBy`, `lastChangedAt`; always enabled for the first stage),
 * `latestExecution` (`pipelineExecutionId`, `status`), `actionStates[]` (`actionName`,
 * `latestExecution` with `actionExecutionId`, `status`, `summary`, `lastStatusChange`,
 * `externalExecutionUrl`, `errorDetails`), then Sluice's `waitingExecutions`.
 */
export function awsStageState(stage: StageStateNode): Fields {
  const transition = stage.inboundTransition;
  return {
    stageName: stage.name,
    inboundTransitionState: transition
      ? {
          enabled: transition.enabled,
          disabledReason: transition.disabledReason,
          lastChangedBy: transition.disabledBy,
          lastChangedAt: transition.disabledAt,
        }
      : { enabled: true },
    latestExecution: stage.latestExecution && {
      pipelineExecutionId: stage.latestExecution.executionId,
      status: stage.latestExecution.status,
    },
    actionStates: stage.actions.map((action) => ({
      actionName: action.name,
      latestExecution: action.latestExecution && awsActionExecution(action.latestExecution),
    })),
    waitingExecutions: stage.waitingExecutions.map(({ executionId, ...rest }) => ({
      pipelineExecutionId: executionId,
      ...rest,
    })),
  };
}

function awsActionExecution({
  executionId,
  externalUrl,
  ...rest
}: { executionId: string; externalUrl?: unknown } & Fields): Fields {
  return { ...rest, pipelineExecutionId: executionId, externalExecutionUrl: externalUrl ?? null };
}
