import { Status } from "./Status";

interface WaitingReasonData {
  code: string;
  message: string;
}

/** An execution as the waiting list needs it: its own reason and its actions'. */
export interface WaitingExecutionData {
  waitingReason?: WaitingReasonData | null;
  stages: ReadonlyArray<{
    name?: string;
    actions: ReadonlyArray<{ name: string; waitingReason?: WaitingReasonData | null }>;
  }>;
}

/** Every reason an execution does not move, in words: its own (a stage it cannot enter), then its actions'. */
export function waitingReasons(
  execution: WaitingExecutionData,
): Array<{ key: string; who: string | null; reason: WaitingReasonData }> {
  const reasons: Array<{ key: string; who: string | null; reason: WaitingReasonData }> = [];
  if (execution.waitingReason) reasons.push({ key: "execution", who: null, reason: execution.waitingReason });
  for (const stage of execution.stages)
    for (const action of stage.actions)
      if (action.waitingReason)
        reasons.push({
          key: `${stage.name ?? ""}/${action.name}`,
          who: action.name,
          reason: action.waitingReason,
        });
  return reasons;
}

/** The reasons as a list: the code as a data attribute (tests, styling), the message as text. */
export function WaitingList({ execution, label }: { execution: WaitingExecutionData; label: string }) {
  const reasons = waitingReasons(execution);
  if (reasons.length === 0) return null;
  return (
    <ul className="waiting-list" aria-label={label}>
      {reasons.map(({ key, who, reason }) => (
        <li key={key} data-waiting={reason.code}>
          <Status status="Waiting" /> {who ? <strong>{who}: </strong> : null}
          {reason.message}
        </li>
      ))}
    </ul>
  );
}
