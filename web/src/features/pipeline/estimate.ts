/** The durations (ms) of an action's recent successful runs, newest first, at most `keep` of them. */
export interface RunSample {
  name: string;
  status: string | null | undefined;
  startTime: string | null | undefined;
  endTime: string | null | undefined;
}

/**
 * Per action name, the median duration of its recent successful runs (from executions given
 * newest first); the progress bar of a running action is elapsed / this estimate.
 */
export function estimateDurations(runs: RunSample[], keep = 10): Map<string, number> {
  const samples = new Map<string, number[]>();
  for (const run of runs) {
    if (run.status !== "Succeeded" || !run.startTime || !run.endTime) continue;
    const list = samples.get(run.name) ?? [];
    if (list.length < keep) list.push(Date.parse(run.endTime) - Date.parse(run.startTime));
    samples.set(run.name, list);
  }
  const estimates = new Map<string, number>();
  for (const [name, list] of samples) {
    const sorted = [...list].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    estimates.set(name, sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2);
  }
  return estimates;
}
