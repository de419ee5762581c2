"use client";

import { useState } from "react";
import { useMutation } from "urql";
import { FormDialog } from "@/components/Dialog";
import { PUT_APPROVAL, STOP_EXECUTION, TOGGLE_TRANSITION } from "./queries";

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
  const [state, toggle] = useMutation(TOGGLE_TRANSITION);
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
        const result = await toggle({
          name: props.pipeline,
          stage: props.stage,
          enabled: !disabling,
          reason: reason || null,
        });
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
export function ApprovalDialog(
  props: Done & { actionExecutionId: string; actionName: string; open: boolean },
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
