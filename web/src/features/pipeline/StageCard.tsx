"use client";

import Link from "next/link";
import { revisionOf } from "@/components/revision";
import { Status } from "@/components/Status";
import { elapsed, formatAgo, formatDuration } from "@/components/time";
import type { PipelineViewQuery } from "@/gql/graphql";

type Pipeline = NonNullable<PipelineViewQuery["pipeline"]>;
export type StageDefinition = Pipeline["stages"][number];
export type StageStateData = Pipeline["state"]["stages"][number];
export type ExecutionData = Pipeline["executions"]["nodes"][number];

export interface StageActions {
  onToggleTransition(stage: string, enabled: boolean): void;
  onRetry(executionId: string, stage: string): void;
  onReview(actionExecutionId: string, actionName: string, executionId: string): void;
}

/** The transition into a stage: enabled, or disabled with reason, who and when; and its toggle. */
export function Transition(props: {
  stage: string;
  transition: NonNullable<StageStateData["inboundTransition"]>;
  now: number;
  actions: StageActions;
}) {
  const t = props.transition;
  return (
    <div className={`transition ${t.enabled ? "transition-on" : "transition-off"}`}>
      <span className="transition-arrow" aria-hidden="true">
        {t.enabled ? "↓" : "⊘"}
      </span>
      <span>
        {t.enabled ? (
          <>Transition into {props.stage}: enabled</>
        ) : (
          <>
            <strong>Transition into {props.stage}: disabled</strong> — “{t.disabledReason ?? "no reason"}” by{" "}
            {t.disabledBy ?? "someone"}{" "}
            <time dateTime={t.disabledAt ?? undefined}>{formatAgo(t.disabledAt, props.now)}</time>
          </>
        )}
      </span>
      <button type="button" onClick={() => props.actions.onToggleTransition(props.stage, t.enabled)}>
        {t.enabled ? "Disable transition" : "Enable transition"}
        <span className="visually-hidden"> into {props.stage}</span>
      </button>
    </div>
  );
}

/** One stage: what it works on, what waits at its entry, and its actions by runOrder (parallel ones side by side). */
export function StageCard(props: {
  definition: StageDefinition;
  state: StageStateData | undefined;
  executions: Map<string, ExecutionData>;
  estimates: Map<string, number>;
  now: number;
  actions: StageActions;
}) {
  const { definition, state } = props;
  const latest = state?.latestExecution;
  const working = latest ? props.executions.get(latest.executionId) : undefined;
  const revision = revisionOf(working);
  const stageRun = working?.stages.find((s) => s.name === definition.name);
  const groups = new Map<number, StageDefinition["actions"]>();
  for (const action of [...definition.actions].sort((a, b) => a.runOrder - b.runOrder)) {
    groups.set(action.runOrder, [...(groups.get(action.runOrder) ?? []), action]);
  }
  const headingId = `stage-${definition.name.replace(/\W+/g, "-")}`;
  return (
    <section className="stage" aria-labelledby={headingId} data-stage={definition.name}>
      <div className="stage-head">
        <h2 id={headingId}>{definition.name}</h2>
        <Status status={latest?.status} className="stage-status" />
      </div>
      {latest ? (
        <p className="stage-revision">
          <Link href={`/executions/${latest.executionId}`}>Execution {latest.executionId.slice(0, 8)}</Link>
          {revision ? (
            <>
              {" "}
              · <code title={revision.id}>{revision.id.slice(0, 8)}</code>{" "}
              <span className="muted">{revision.summary}</span>
            </>
          ) : null}
        </p>
      ) : (
        <p className="muted">No execution has entered this stage.</p>
      )}
      {latest && (latest.status === "Failed" || latest.status === "Stopped") ? (
        <button type="button" onClick={() => props.actions.onRetry(latest.executionId, definition.name)}>
          Retry failed stage<span className="visually-hidden"> {definition.name}</span>
        </button>
      ) : null}
      {state && state.waitingExecutions.length > 0 ? (
        <div className="waiting">
          <h3>Waiting at the entry</h3>
          <ul>
            {state.waitingExecutions.map((w) => (
              <li key={w.executionId}>
                <Status status="Waiting" />{" "}
                <Link href={`/executions/${w.executionId}`}>{w.executionId.slice(0, 8)}</Link>
                {": "}
                {w.waitingReason?.message ?? "waiting"}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <div className="run-orders">
        {[...groups].map(([runOrder, actions]) => (
          <div key={runOrder} className="run-order" role="group" aria-label={`Run order ${runOrder}`}>
            {actions.map((action) => {
              const actionState = state?.actions.find((a) => a.name === action.name)?.latestExecution;
              const run = stageRun?.actions.find((a) => a.name === action.name);
              const status = actionState?.approvalPending ? "AwaitingApproval" : actionState?.status;
              const startTime =
                run?.startTime ??
                (actionState?.status === "InProgress" ? actionState.lastStatusChange : null);
              const ms = elapsed(startTime, run?.endTime, props.now);
              const estimate = props.estimates.get(action.name);
              const running = actionState?.status === "InProgress" && !actionState.approvalPending;
              return (
                <article key={action.name} className="action" data-action={action.name}>
                  <h3>{action.name}</h3>
                  <p className="muted small">
                    {action.actionTypeId.category} · {action.actionTypeId.provider}
                  </p>
                  <Status status={status} />
                  {ms !== null ? <p className="small">Elapsed {formatDuration(ms)}</p> : null}
                  {running ? (
                    <progress
                      max={1}
                      value={estimate ? Math.min(ms! / estimate, 0.99) : undefined}
                      aria-label={`${action.name} progress${estimate ? `, estimated ${formatDuration(estimate)}` : ""}`}
                    />
                  ) : null}
                  {actionState?.errorDetails ? (
                    <p className="error small">{actionState.errorDetails.message}</p>
                  ) : null}
                  {actionState?.summary && !actionState.errorDetails ? (
                    <p className="small">{actionState.summary}</p>
                  ) : null}
                  <div className="buttons">
                    {actionState?.approvalPending ? (
                      <button
                        type="button"
                        className="primary"
                        onClick={() =>
                          props.actions.onReview(
                            actionState.actionExecutionId,
                            action.name,
                            actionState.executionId,
                          )
                        }
                      >
                        Approve or reject<span className="visually-hidden"> {action.name}</span>
                      </button>
                    ) : null}
                    {actionState && action.actionTypeId.category !== "Approval" ? (
                      <Link
                        href={`/executions/${actionState.executionId}/actions/${actionState.actionExecutionId}/logs`}
                      >
                        Logs<span className="visually-hidden"> of {action.name}</span>
                      </Link>
                    ) : null}
                  </div>
                </article>
              );
            })}
          </div>
        ))}
      </div>
    </section>
  );
}
