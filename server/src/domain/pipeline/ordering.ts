/**
 * When actions run relative to each other (PIPELINE-MODEL.md rules 7, 8 and 11): stages run one
 * after the other; inside a stage, lower runOrder values run first and equal values run at the
 * same time. So A runs before B when A's stage is earlier, or the stage is the same and A's
 * runOrder is lower. Equal runOrders in one stage are *not* "before": they run in parallel.
 */

export interface ActionPosition {
  stageIndex: number;
  runOrder: number;
}

export function runsBefore(a: ActionPosition, b: ActionPosition): boolean {
  return a.stageIndex < b.stageIndex || (a.stageIndex === b.stageIndex && a.runOrder < b.runOrder);
}
