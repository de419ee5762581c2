/**
 * The execution state machine: pure functions from (runtime, event) to (runtime, effects). The
 * engine locks the pipeline's runtime row, calls decide, stores the new runtime and a snapshot
 * (executionView) of each changed execution, and carries out the effects. README.md in this folder
 * describes the semantics and the decisions the model leaves open.
 */
export { decide, decideInTurn, mergeDecisions } from "./decide";
export { emptyRuntime } from "./state";
export { executionView, lastSucceededExecution, stageStateView } from "./views";
export { parseTimerKey, timerKey } from "./actions";
export * from "./types";
