"use client";

import Link from "next/link";
import { usePathname, useSearchParams } from "next/navigation";
import { Fragment, useEffect, useMemo, useRef, useState } from "react";
import { useMutation } from "urql";
import { useLiveQuery } from "@/components/live";
import { revisionOf } from "@/components/revision";
import { Status } from "@/components/Status";
import { elapsed, formatDuration, useNow } from "@/components/time";
import { WaitingList } from "@/components/waiting";
import { CompactView } from "./CompactView";
import { ApprovalDialog, StopDialog, TransitionDialog } from "./dialogs";
import { estimateDurations } from "./estimate";
import { PIPELINE_LIVE } from "./live";
import { PIPELINE_EVENTS, PIPELINE_VIEW, RELEASE_CHANGE, RETRY_STAGE } from "./queries";
import { StageCard, Transition, type ExecutionData, type StageActions } from "./StageCard";

type Open =
  | { kind: "transition"; stage: string; enabled: boolean }
  | { kind: "stop"; executionId: string }
  | { kind: "review"; actionExecutionId: string; actionName: string; executionId: string }
  | null;

const IN_FLIGHT = new Set(["InProgress", "Stopping"]);

/** A pipeline's stages in order, joined by their transitions, live; and the buttons that operate it. */
export function PipelineView({ name }: { name: string }) {
  const [{ data, error }, refetch] = useLiveQuery({
    query: PIPELINE_VIEW,
    variables: { name },
    subscription: PIPELINE_EVENTS,
    subscriptionVariables: { name },
    live: PIPELINE_LIVE,
  });
  const [release, releaseChange] = useMutation(RELEASE_CHANGE);
  const [, retryStage] = useMutation(RETRY_STAGE);
  const [open, setOpen] = useState<Open>(null);
  // The layout is in the address (?view=compact), so a link or a reload keeps it.
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const compact = searchParams.get("view") === "compact";
  const chooseView = (next: boolean) => {
    const params = new URLSearchParams(searchParams.toString());
    if (next) params.set("view", "compact");
    else params.delete("view");
    const query = params.toString();
    window.history.pushState(null, "", query ? `${pathname}?${query}` : pathname);
  };
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | null>(null);
  const pipeline = data?.pipeline;
  // ?approval=<actionExecutionId> (the link of an approval-needed notification) opens its review
  // dialog once, while it waits; afterwards it is only the page.
  const approvalParam = searchParams.get("approval");
  const approvalOpened = useRef(false);
  useEffect(() => {
    if (!approvalParam || approvalOpened.current || !pipeline) return;
    approvalOpened.current = true;
    for (const stage of pipeline.state.stages) {
      for (const action of stage.actions) {
        const latest = action.latestExecution;
        if (latest?.actionExecutionId !== approvalParam) continue;
        if (latest.approvalPending) {
          setOpen({
            kind: "review",
            actionExecutionId: latest.actionExecutionId,
            actionName: action.name,
            executionId: latest.executionId,
          });
        } else {
          setNotice({ text: `${action.name} in ${stage.name} no longer waits for an approval.` });
        }
        return;
      }
    }
    setNotice({ text: "That approval no longer waits: it is not the latest run of its action." });
  }, [approvalParam, pipeline]);
  const executions = useMemo(() => pipeline?.executions.nodes ?? [], [pipeline]);
  const inFlight = executions.filter((e) => IN_FLIGHT.has(e.status));
  const now = useNow(1000, inFlight.length > 0);
  const byId = useMemo(() => new Map<string, ExecutionData>(executions.map((e) => [e.id, e])), [executions]);
  const estimates = useMemo(
    () => estimateDurations(executions.flatMap((e) => e.stages.flatMap((s) => s.actions))),
    [executions],
  );

  const done = (text: string) => {
    setOpen(null);
    setNotice({ text });
    refetch({ requestPolicy: "network-only" });
  };
  const actions: StageActions = {
    onToggleTransition: (stage, enabled) => setOpen({ kind: "transition", stage, enabled }),
    onReview: (actionExecutionId, actionName, executionId) =>
      setOpen({ kind: "review", actionExecutionId, actionName, executionId }),
    onRetry: async (executionId, stage) => {
      const result = await retryStage({ id: executionId, stage });
      setNotice(result.error ? { text: result.error.message, error: true } : { text: `Retrying ${stage}.` });
    },
  };

  if (error && !data)
    return (
      <p role="alert" className="error">
        {error.message}
      </p>
    );
  if (!data) return <p className="muted">Loading…</p>;
  if (!pipeline)
    return (
      <p role="alert" className="error">
        There is no pipeline named “{name}”.
      </p>
    );

  return (
    <>
      <div className="page-head">
        <div>
          <h1>{pipeline.name}</h1>
          <p className="muted small">
            Version {pipeline.version} · {pipeline.executionMode.toLowerCase()} executions ·{" "}
            <Link href={`/audit?pipelineName=${encodeURIComponent(pipeline.name)}`}>Recent changes</Link>
          </p>
        </div>
        <div className="buttons">
          <Link className="button-link" href={`/pipelines/${encodeURIComponent(pipeline.name)}/executions`}>
            History
          </Link>
          <Link
            className="button-link"
            href={`/pipelines/${encodeURIComponent(pipeline.name)}/notifications`}
          >
            Notifications
          </Link>
          <Link className="button-link" href={`/pipelines/${encodeURIComponent(pipeline.name)}/edit`}>
            Edit
          </Link>
          <Link className="button-link" href={`/new?from=${encodeURIComponent(pipeline.name)}`}>
            Copy
          </Link>
          <button
            type="button"
            className="primary"
            disabled={release.fetching}
            onClick={async () => {
              const result = await releaseChange({ name: pipeline.name, token: crypto.randomUUID() });
              if (result.error) setNotice({ text: result.error.message, error: true });
              else if (result.data)
                setNotice({
                  text: `Released: execution ${result.data.startPipelineExecution.pipelineExecution.id.slice(0, 8)} started.`,
                });
            }}
          >
            Release change
          </button>
        </div>
      </div>
      <p role="status" className={notice?.error ? "error" : "notice"}>
        {notice?.text}
      </p>

      <section aria-labelledby="in-flight" className="in-flight">
        <h2 id="in-flight">In flight</h2>
        {inFlight.length === 0 ? (
          <p className="muted">No execution is running.</p>
        ) : (
          <ul>
            {inFlight.map((e) => {
              const revision = revisionOf(e);
              return (
                <li key={e.id}>
                  <Status status={e.status} /> <Link href={`/executions/${e.id}`}>{e.id.slice(0, 8)}</Link>
                  {revision ? (
                    <>
                      {" "}
                      · <code>{revision.id.slice(0, 8)}</code> {revision.summary}
                    </>
                  ) : null}
                  {e.currentStage ? (
                    <>
                      {" "}
                      · {e.currentStage.entered ? "in" : "waiting at"} {e.currentStage.stageName}
                    </>
                  ) : null}{" "}
                  · {formatDuration(elapsed(e.startTime, e.endTime, now) ?? 0)}{" "}
                  {e.status === "InProgress" ? (
                    <button type="button" onClick={() => setOpen({ kind: "stop", executionId: e.id })}>
                      Stop<span className="visually-hidden"> execution {e.id.slice(0, 8)}</span>
                    </button>
                  ) : null}
                  <WaitingList execution={e} label={`Why execution ${e.id.slice(0, 8)} waits`} />
                </li>
              );
            })}
          </ul>
        )}
      </section>

      <div className="page-head">
        <h2 id="stages-heading">Stages</h2>
        <div className="buttons" role="group" aria-label="Layout">
          <button type="button" aria-pressed={!compact} onClick={() => chooseView(false)}>
            Detailed
          </button>
          <button type="button" aria-pressed={compact} onClick={() => chooseView(true)}>
            Compact
          </button>
        </div>
      </div>
      {compact ? (
        <CompactView stages={pipeline.stages} states={pipeline.state.stages} actions={actions} />
      ) : null}
      <div className="stages" hidden={compact}>
        {pipeline.stages.map((definition) => {
          const state = pipeline.state.stages.find((s) => s.name === definition.name);
          return (
            <Fragment key={definition.name}>
              {state?.inboundTransition ? (
                <Transition
                  stage={definition.name}
                  transition={state.inboundTransition}
                  now={now}
                  actions={actions}
                />
              ) : null}
              <StageCard
                definition={definition}
                state={state}
                executions={byId}
                estimates={estimates}
                now={now}
                actions={actions}
              />
            </Fragment>
          );
        })}
      </div>

      <TransitionDialog
        open={open?.kind === "transition"}
        pipeline={pipeline.name}
        stage={open?.kind === "transition" ? open.stage : ""}
        enabled={open?.kind === "transition" ? open.enabled : true}
        onClose={() => setOpen(null)}
        onDone={done}
      />
      <StopDialog
        open={open?.kind === "stop"}
        executionId={open?.kind === "stop" ? open.executionId : ""}
        onClose={() => setOpen(null)}
        onDone={done}
      />
      <ApprovalDialog
        open={open?.kind === "review"}
        actionExecutionId={open?.kind === "review" ? open.actionExecutionId : ""}
        actionName={open?.kind === "review" ? open.actionName : ""}
        executionId={open?.kind === "review" ? open.executionId : ""}
        onClose={() => setOpen(null)}
        onDone={done}
      />
    </>
  );
}
