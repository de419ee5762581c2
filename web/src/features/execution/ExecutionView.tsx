"use client";

import Link from "next/link";
import { useState } from "react";
import { REFETCH, useLiveQuery, type LiveApply } from "@/components/live";
import { applyToExecution, FINAL_STATUSES, isFinalEvent, withArtifacts } from "@/components/live-apply";
import { useSession } from "@/components/Providers";
import { revisionOf } from "@/components/revision";
import { Status } from "@/components/Status";
import { elapsed, formatBytes, formatDuration, formatTime, useNow } from "@/components/time";
import { graphql } from "@/gql";
import type { ExecutionViewEventsSubscription, ExecutionViewQuery } from "@/gql/graphql";
import { downloadArtifact } from "./download";

const EXECUTION = graphql(`
  query ExecutionView($id: ID!) {
    pipelineExecution(id: $id) {
      id
      sequence
      pipelineName
      pipelineVersion
      status
      statusSummary
      startTime
      endTime
      trigger {
        triggerType
        triggerDetail
      }
      waitingReason {
        message
      }
      sourceRevisions {
        actionName
        revisionId
        revisionSummary
        revisionUrl
      }
      variables {
        name
        resolvedValue
      }
      artifacts {
        name
        size
        sha256
      }
      stages {
        name
        status
        startTime
        endTime
        actions {
          id
          name
          runOrder
          status
          startTime
          endTime
          summary
          approvalPending
          attempt
          outputVariables
          agent {
            name
          }
          approval {
            approved
            by
            at
            summary
          }
          errorDetails {
            message
          }
          actionTypeId {
            category
          }
        }
      }
    }
  }
`);

const EXECUTION_EVENTS = graphql(`
  subscription ExecutionViewEvents($id: ID!) {
    executionEvents(executionId: $id) {
      ...LiveChange
    }
  }
`);

type ExecutionData = ExecutionViewQuery;

/**
 * Events applied to the page (components/live.ts): statuses, times, summaries, errors, agents,
 * approvals' decisions, output variables and artifacts come with them. The end of the execution
 * fetches the page once more (its variables and everything the last events did not carry are
 * then final), and so does an execution starting to wait (the reason).
 */
const LIVE: LiveApply<ExecutionData, ExecutionViewEventsSubscription> = {
  event: (payload) => payload.executionEvents,
  sequences: (data) =>
    data.pipelineExecution ? [[data.pipelineExecution.id, data.pipelineExecution.sequence]] : [],
  apply: (data, event) => {
    const execution = data.pipelineExecution;
    if (!execution || event.executionId !== execution.id) return data;
    if (isFinalEvent(event)) return REFETCH;
    const next = applyToExecution(execution, event);
    if (next === REFETCH) return REFETCH;
    const artifacts =
      event.type === "ACTION_SUCCEEDED" ? withArtifacts(next.artifacts, event) : next.artifacts;
    const changed =
      next === execution && artifacts === execution.artifacts ? execution : { ...next, artifacts };
    return changed === execution
      ? data
      : { ...data, pipelineExecution: { ...changed, sequence: event.sequence ?? changed.sequence } };
  },
};

/** One execution: a timeline of its stages and actions, artifacts, variables and approvals, live. */
export function ExecutionView({ id }: { id: string }) {
  const [{ data, error }] = useLiveQuery({
    query: EXECUTION,
    variables: { id },
    subscription: EXECUTION_EVENTS,
    subscriptionVariables: { id },
    live: LIVE,
    // The server completes the subscription once the execution is final; a retry makes it
    // InProgress again (the mutation's answer), which subscribes anew.
    pauseSubscriptionWhen: (loaded) => FINAL_STATUSES.has(loaded?.pipelineExecution?.status ?? ""),
  });
  const { token } = useSession();
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const execution = data?.pipelineExecution;
  const now = useNow(1000, execution?.status === "InProgress" || execution?.status === "Stopping");
  if (error && !data)
    return (
      <p role="alert" className="error">
        {error.message}
      </p>
    );
  if (!data) return <p className="muted">Loading…</p>;
  if (!execution)
    return (
      <p role="alert" className="error">
        There is no execution {id}.
      </p>
    );

  const start = Date.parse(execution.startTime);
  const span = Math.max((execution.endTime ? Date.parse(execution.endTime) : now) - start, 1);
  const bar = (from: string | null | undefined, to: string | null | undefined) => {
    if (!from) return null;
    const left = ((Date.parse(from) - start) / span) * 100;
    const width = (((to ? Date.parse(to) : now) - Date.parse(from)) / span) * 100;
    return { left: `${Math.max(0, left)}%`, width: `${Math.max(0.5, Math.min(width, 100 - left))}%` };
  };
  // Released with explicit revisions, or what each Git source resolved (its CommitId).
  const revisions = execution.sourceRevisions.length
    ? execution.sourceRevisions.map((r) => ({
        actionName: r.actionName,
        id: r.revisionId,
        summary: r.revisionSummary,
      }))
    : (execution.stages[0]?.actions ?? []).flatMap((a) => {
        const single = revisionOf({ sourceRevisions: [], stages: [{ actions: [a] }] });
        return single ? [{ actionName: a.name, ...single }] : [];
      });
  const approvals = execution.stages.flatMap((s) =>
    s.actions.filter((a) => a.actionTypeId.category === "Approval").map((a) => ({ ...a, stage: s.name })),
  );

  return (
    <>
      <div className="page-head">
        <div>
          <h1>
            Execution <code>{execution.id.slice(0, 8)}</code>
          </h1>
          <p className="muted small">
            <Link href={`/pipelines/${encodeURIComponent(execution.pipelineName)}`}>
              {execution.pipelineName}
            </Link>{" "}
            · version {execution.pipelineVersion} · {execution.trigger.triggerType}
            {execution.trigger.triggerDetail ? ` (${execution.trigger.triggerDetail})` : ""}
          </p>
        </div>
        <Status status={execution.status} />
      </div>
      {execution.statusSummary ? <p>{execution.statusSummary}</p> : null}
      {execution.waitingReason ? (
        <p>
          <Status status="Waiting" /> {execution.waitingReason.message}
        </p>
      ) : null}
      <p className="small">
        Started {formatTime(execution.startTime)} · {execution.endTime ? "took" : "running for"}{" "}
        {formatDuration(elapsed(execution.startTime, execution.endTime, now) ?? 0)}
      </p>

      <section aria-labelledby="timeline">
        <h2 id="timeline">Timeline</h2>
        <ol className="gantt">
          {execution.stages.map((stage) => (
            <li key={stage.name}>
              <div className="gantt-row gantt-stage">
                <span className="gantt-label">
                  {stage.name} <Status status={stage.status} />
                </span>
                <span className="gantt-track">
                  {bar(stage.startTime, stage.endTime) ? (
                    <span
                      className={`gantt-bar tone-bar-${stage.status ?? "none"}`}
                      style={bar(stage.startTime, stage.endTime)!}
                    />
                  ) : null}
                </span>
              </div>
              <ol>
                {stage.actions.map((action) => (
                  <li key={action.name} className="gantt-row">
                    <span className="gantt-label">
                      {action.id ? (
                        action.actionTypeId.category === "Approval" ? (
                          action.name
                        ) : (
                          <Link href={`/executions/${execution.id}/actions/${action.id}/logs`}>
                            {action.name}
                          </Link>
                        )
                      ) : (
                        action.name
                      )}{" "}
                      <Status status={action.approvalPending ? "AwaitingApproval" : action.status} />{" "}
                      <span className="muted small">
                        {action.startTime
                          ? formatDuration(elapsed(action.startTime, action.endTime, now) ?? 0)
                          : ""}
                        {action.agent ? ` · on ${action.agent.name}` : ""}
                        {action.attempt > 1 ? ` · attempt ${action.attempt}` : ""}
                      </span>
                    </span>
                    <span className="gantt-track">
                      {bar(action.startTime, action.endTime) ? (
                        <span
                          className={`gantt-bar tone-bar-${action.status ?? "none"}`}
                          style={bar(action.startTime, action.endTime)!}
                        />
                      ) : null}
                    </span>
                  </li>
                ))}
              </ol>
            </li>
          ))}
        </ol>
      </section>

      <section aria-labelledby="revisions">
        <h2 id="revisions">Source revisions</h2>
        {revisions.length === 0 ? <p className="muted">None yet.</p> : null}
        <ul>
          {revisions.map((r) => (
            <li key={r.actionName}>
              {r.actionName}: <code>{r.id}</code> {r.summary}
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="artifacts">
        <h2 id="artifacts">Artifacts</h2>
        {execution.artifacts.length === 0 ? <p className="muted">None yet.</p> : null}
        {downloadError ? (
          <p role="alert" className="error">
            {downloadError}
          </p>
        ) : null}
        <ul>
          {execution.artifacts.map((a) => (
            <li key={a.name}>
              {a.name} ({formatBytes(a.size)}){" "}
              <button
                type="button"
                onClick={() => downloadArtifact(token ?? "", execution.id, a.name).then(setDownloadError)}
              >
                Download<span className="visually-hidden"> {a.name}</span>
              </button>{" "}
              <span className="muted small" title="SHA-256">
                {a.sha256.slice(0, 12)}…
              </span>
            </li>
          ))}
        </ul>
      </section>

      <section aria-labelledby="variables">
        <h2 id="variables">Variables</h2>
        {execution.variables.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <dl className="pairs">
            {execution.variables.map((v) => (
              <div key={v.name}>
                <dt>{v.name}</dt>
                <dd>
                  <code>{v.resolvedValue}</code>
                </dd>
              </div>
            ))}
          </dl>
        )}
      </section>

      <section aria-labelledby="approvals">
        <h2 id="approvals">Approvals</h2>
        {approvals.length === 0 ? <p className="muted">None.</p> : null}
        <ul>
          {approvals.map((a) => (
            <li key={`${a.stage}/${a.name}`}>
              {a.stage} / {a.name}:{" "}
              {a.approval ? (
                <>
                  <Status status={a.approval.approved ? "Succeeded" : "Failed"} />{" "}
                  {a.approval.approved ? "approved" : "rejected"} by {a.approval.by} at{" "}
                  {formatTime(a.approval.at)}
                  {a.approval.summary ? ` — “${a.approval.summary}”` : ""}
                </>
              ) : a.approvalPending ? (
                <Status status="AwaitingApproval" />
              ) : (
                <Status status={a.status} />
              )}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}
