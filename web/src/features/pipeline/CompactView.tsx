"use client";

import Link from "next/link";
import { Status, statusTone } from "@/components/Status";
import type { StageActions, StageDefinition, StageStateData } from "./StageCard";

/**
 * The pipeline as columns, one per stage (CodePipeline's and GoCD's horizontal view), for
 * pipelines of many stages: each column holds the stage's latest status and its actions by
 * runOrder with theirs; between columns, the transition (⊘ when disabled, with its reason as the
 * button's description). The detailed view stays one click away.
 */
export function CompactView(props: {
  stages: readonly StageDefinition[];
  states: readonly StageStateData[];
  actions: StageActions;
}) {
  return (
    <ol className="compact-stages" aria-label="Stages, left to right">
      {props.stages.map((definition, index) => {
        const state = props.states.find((s) => s.name === definition.name);
        const transition = state?.inboundTransition;
        const stageStatus = state?.latestExecution?.status;
        const runOrders = [...new Set(definition.actions.map((a) => a.runOrder))].sort((a, b) => a - b);
        return (
          <li key={definition.name} className="compact-stage-wrap" data-compact-stage={definition.name}>
            {index > 0 && transition ? (
              <button
                type="button"
                className={`compact-transition ${transition.enabled ? "" : "transition-off"}`}
                title={
                  transition.enabled
                    ? `Disable the transition into ${definition.name}`
                    : `Disabled: ${transition.disabledReason ?? "no reason"} (by ${transition.disabledBy ?? "someone"}). Enable it.`
                }
                onClick={() => props.actions.onToggleTransition(definition.name, transition.enabled)}
              >
                <span aria-hidden="true">{transition.enabled ? "→" : "⊘"}</span>
                <span className="visually-hidden">
                  {transition.enabled ? "Disable" : "Enable"} the transition into {definition.name}
                  {transition.enabled ? "" : ` (disabled: ${transition.disabledReason ?? "no reason"})`}
                </span>
              </button>
            ) : null}
            <section
              className={`compact-stage tone-${statusTone(stageStatus)}`}
              aria-labelledby={`compact-${index}`}
            >
              <h3 id={`compact-${index}`}>{definition.name}</h3>
              <Status status={stageStatus} />
              {runOrders.map((runOrder) => (
                <ul key={runOrder} className="compact-actions" aria-label={`runOrder ${runOrder}`}>
                  {definition.actions
                    .filter((a) => a.runOrder === runOrder)
                    .map((action) => {
                      const latest = state?.actions.find((a) => a.name === action.name)?.latestExecution;
                      const label = `${action.name}: ${latest?.status ?? "not run"}`;
                      return (
                        <li key={action.name} className={`tone-${statusTone(latest?.status)}`} title={label}>
                          {latest && action.actionTypeId.category !== "Approval" ? (
                            <Link
                              href={`/executions/${latest.executionId}/actions/${latest.actionExecutionId}/logs`}
                            >
                              {action.name}
                            </Link>
                          ) : (
                            <span>{action.name}</span>
                          )}{" "}
                          <Status status={latest?.approvalPending ? "AwaitingApproval" : latest?.status} />
                          {latest?.approvalPending ? (
                            <button
                              type="button"
                              className="primary"
                              onClick={() =>
                                props.actions.onReview(
                                  latest.actionExecutionId,
                                  action.name,
                                  latest.executionId,
                                )
                              }
                            >
                              Review<span className="visually-hidden"> {action.name}</span>
                            </button>
                          ) : null}
                        </li>
                      );
                    })}
                </ul>
              ))}
            </section>
          </li>
        );
      })}
    </ol>
  );
}
