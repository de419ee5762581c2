/**
 * ToggleTransition: the inbound transition of every stage but the first can be disabled with a
 * reason (≤ 300 characters) and enabled again; the runtime records who changed it and when.
 * Disabling holds what arrives and stops nothing inside; enabling lets the waiting execution(s) in
 * (settle.ts). Transition events belong to no execution: executionId and sequence are null.
 */
import { DomainError, NotFoundError } from "../errors";
import { MAX_TRANSITION_REASON_LENGTH } from "../limits";
import { emitPipelineEvent, type Step } from "./events";
import { setOwn } from "./records";
import { transitionOf } from "./state";
import type { ToggleTransitionEvent } from "./types";

export function toggleTransition(step: Step, event: ToggleTransitionEvent): void {
  const { stageName, by } = event;
  const index = event.document.stages.findIndex((stage) => stage.name === stageName);
  if (index < 0) throw new NotFoundError(`The pipeline has no stage "${stageName}".`);
  if (index === 0)
    throw new DomainError(
      "BAD_USER_INPUT",
      `Stage "${stageName}" is the first stage: it has no inbound transition to enable or disable.`,
    );
  const current = transitionOf(step.runtime, stageName);
  if (event.enabled) {
    if (current === undefined || current.enabled) return;
    setOwn(step.runtime.transitions, stageName, {
      enabled: true,
      disabledReason: null,
      disabledBy: null,
      disabledAt: null,
      lastChangedBy: by,
      lastChangedAt: step.now,
    });
    return emitPipelineEvent(step, "TRANSITION_ENABLED", stageName);
  }
  const reason = (event.reason ?? "").trim();
  if (reason === "" || reason.length > MAX_TRANSITION_REASON_LENGTH)
    throw new DomainError(
      "BAD_USER_INPUT",
      reason === ""
        ? "Disabling a transition needs a reason."
        : `A transition's reason has at most ${MAX_TRANSITION_REASON_LENGTH} characters; this one has ${reason.length}.`,
    );
  setOwn(step.runtime.transitions, stageName, {
    enabled: false,
    disabledReason: reason,
    disabledBy: by,
    disabledAt: step.now,
    lastChangedBy: by,
    lastChangedAt: step.now,
  });
  emitPipelineEvent(step, "TRANSITION_DISABLED", stageName);
}
