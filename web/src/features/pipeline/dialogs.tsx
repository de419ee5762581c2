"use client";

import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { FormDialog } from "@/components/Dialog";
import {
  APPROVAL_DETAILS,
  DISABLE_TRANSITION,
  ENABLE_TRANSITION,
  PUT_APPROVAL,
  STOP_EXECUTION,
} from "./queries";

interface Done {
  onClose(): void;
  /** A sentence for the page's status line, after success. */
  onDone(message: string): void;
}

function text(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === "string" ? value.trim() : "";
}

/** Disables (reason required) or enables the transition into a stage. */
export function TransitionDialog(
  props: Done & { pipeline: string; stage: string; enabled: boolean; open: boolean },
) {
  const [disableState, disable] = useMutation(DISABLE_TRANSITION);
  const [enableState, enable] = useMutation(ENABLE_TRANSITION);
  const state = { fetching: disableState.fetching || enableState.fetching };
  const [error, setError] = useState<string | null>(null);
  const disabling = props.enabled;
  const title = `${disabling ? "Disable" : "Enable"} the transition into ${props.stage}`;
  return (
    <FormDialog
      open={props.open}
      title={title}
      busy={state.fetching}
      error={error}
      onClose={() => {
        setError(null);
        props.onClose();
      }}
      onSubmit={async (data) => {
        const reason = text(data, "reason");
        if (disabling && !reason) return setError("Say why the transition is disabled.");
        const result = disabling
          ? await disable({ name: props.pipeline, stage: props.stage, reason })
          : await enable({ name: props.pipeline, stage: props.stage });
        if (result.error) return setError(result.error.message);
        setError(null);
        props.onDone(`Transition into ${props.stage} ${disabling ? "disabled" : "enabled"}.`);
      }}
    >
      <p>
        {disabling
          ? `Executions that reach ${props.stage} will wait at its entry until the transition is enabled again.`
          : `The execution waiting at ${props.stage}'s entry will go in.`}
      </p>
      <label htmlFor="transition-reason">Reason{disabling ? "" : " (optional)"}</label>
      <textarea id="transition-reason" name="reason" rows={3} required={disabling} />
      <div className="buttons">
        <button type="submit" className="primary" disabled={state.fetching}>
          {disabling ? "Disable transition" : "Enable transition"}
        </button>
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </FormDialog>
  );
}

/** Stops an execution: let running actions finish, or abandon them at once. */
export function StopDialog(props: Done & { executionId: string; open: boolean }) {
  const [state, stop] = useMutation(STOP_EXECUTION);
  const [error, setError] = useState<string | null>(null);
  return (
    <FormDialog
      open={props.open}
      title={`Stop execution ${props.executionId.slice(0, 8)}`}
      busy={state.fetching}
      error={error}
      onClose={() => {
        setError(null);
        props.onClose();
      }}
      onSubmit={async (data, submitter) => {
        const abandon = submitter === "abandon";
        const result = await stop({ id: props.executionId, abandon, reason: text(data, "reason") });
        if (result.error) return setError(result.error.message);
        setError(null);
        props.onDone(`Execution ${props.executionId.slice(0, 8)} ${abandon ? "abandoned" : "stopping"}.`);
      }}
    >
      <label htmlFor="stop-reason">Reason (optional)</label>
      <textarea id="stop-reason" name="reason" rows={2} />
      <div className="buttons">
        <button type="submit" value="wait" className="primary" disabled={state.fetching}>
          Stop and wait
        </button>
        <button type="submit" value="abandon" className="danger" disabled={state.fetching}>
          Stop and abandon
        </button>
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
      </div>
      <p className="muted">Stop and wait lets running actions finish; abandon ends them now.</p>
    </FormDialog>
  );
}

/** Approves or rejects a pending manual approval, with a comment. */
/** A link only for http(s) URLs: a configured link is the pipeline author's text, not trusted markup. */
function safeHref(url: unknown): string | null {
  if (typeof url !== "string") return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/**
 * What a reviewer needs: the approval's CustomData and ExternalEntityLink (its configuration) and
 * the revisions the execution carries, each with its link (the commit or diff page).
 */
function ApprovalDetails({
  executionId,
  actionExecutionId,
}: {
  executionId: string;
  actionExecutionId: string;
}) {
  const [{ data }] = useQuery({
    query: APPROVAL_DETAILS,
    variables: { id: executionId },
    pause: !executionId,
  });
  const execution = data?.pipelineExecution;
  if (!execution) return null;
  const action = execution.stages.flatMap((s) => s.actions).find((a) => a.id === actionExecutionId);
  const configuration = (action?.resolvedConfiguration ?? {}) as Record<string, unknown>;
  const customData = typeof configuration.CustomData === "string" ? configuration.CustomData : null;
  const rawLink = configuration.ExternalEntityLink;
  const link = safeHref(rawLink);
  // The revisions released with, else what the execution's source actions resolved (their CommitId).
  const revisions =
    execution.sourceRevisions.length > 0
      ? execution.sourceRevisions
      : (execution.stages[0]?.actions ?? []).flatMap((a) => {
          const commit = a.outputVariables?.CommitId;
          if (typeof commit !== "string" || !commit) return [];
          const message = a.outputVariables?.CommitMessage;
          return [
            {
              actionName: a.name,
              revisionId: commit,
              revisionSummary: typeof message === "string" ? message : null,
              revisionUrl: null as string | null,
            },
          ];
        });
  return (
    <div className="approval-details">
      {customData ? (
        <p data-approval="custom-data">
          <strong>Note from the pipeline:</strong> {customData}
        </p>
      ) : null}
      {typeof rawLink === "string" && rawLink ? (
        <p data-approval="external-link">
          <strong>Review at:</strong>{" "}
          {link ? (
            <a href={link} target="_blank" rel="noreferrer noopener">
              {rawLink}
            </a>
          ) : (
            <code>{rawLink}</code>
          )}
        </p>
      ) : null}
      {revisions.length > 0 ? (
        <div data-approval="revisions">
          <strong>Revisions:</strong>
          <ul>
            {revisions.map((r) => {
              const href = safeHref(r.revisionUrl);
              return (
                <li key={r.actionName}>
                  {r.actionName}:{" "}
                  {href ? (
                    <a href={href} target="_blank" rel="noreferrer noopener">
                      <code>{r.revisionId.slice(0, 12)}</code>
                    </a>
                  ) : (
                    <code>{r.revisionId.slice(0, 12)}</code>
                  )}{" "}
                  {r.revisionSummary}
                </li>
              );
            })}
          </ul>
        </div>
      ) : null}
    </div>
  );
}

export function ApprovalDialog(
  props: Done & { actionExecutionId: string; actionName: string; executionId: string; open: boolean },
) {
  const [state, put] = useMutation(PUT_APPROVAL);
  const [error, setError] = useState<string | null>(null);
  return (
    <FormDialog
      open={props.open}
      title={`Review ${props.actionName}`}
      busy={state.fetching}
      error={error}
      onClose={() => {
        setError(null);
        props.onClose();
      }}
      onSubmit={async (data, submitter) => {
        const approved = submitter !== "reject";
        const result = await put({ id: props.actionExecutionId, approved, summary: text(data, "comment") });
        if (result.error) return setError(result.error.message);
        setError(null);
        props.onDone(`${props.actionName} ${approved ? "approved" : "rejected"}.`);
      }}
    >
      {props.open ? (
        <ApprovalDetails executionId={props.executionId} actionExecutionId={props.actionExecutionId} />
      ) : null}
      <label htmlFor="approval-comment">Comment</label>
      <textarea id="approval-comment" name="comment" rows={3} />
      <div className="buttons">
        <button type="submit" value="approve" className="primary" disabled={state.fetching}>
          Approve
        </button>
        <button type="submit" value="reject" className="danger" disabled={state.fetching}>
          Reject
        </button>
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </FormDialog>
  );
}
