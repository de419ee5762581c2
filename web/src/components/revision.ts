/** What an execution works on: the revision it was released with, or the commit its Git source resolved. */
export interface Revision {
  id: string;
  summary: string | null;
}

interface ExecutionLike {
  sourceRevisions: Array<{ revisionId: string; revisionSummary?: string | null }>;
  stages: Array<{ actions: Array<{ outputVariables?: Record<string, unknown> | null }> }>;
}

export function revisionOf(execution: ExecutionLike | null | undefined): Revision | null {
  if (!execution) return null;
  const given = execution.sourceRevisions[0];
  if (given) return { id: given.revisionId, summary: given.revisionSummary ?? null };
  for (const action of execution.stages[0]?.actions ?? []) {
    const commit = action.outputVariables?.CommitId;
    if (typeof commit === "string" && commit) {
      const message = action.outputVariables?.CommitMessage;
      return { id: commit, summary: typeof message === "string" ? message : null };
    }
  }
  return null;
}
