/**
 * Which Git source actions of a pipeline a push starts (PIPELINE-MODEL.md, "Triggers (on push)").
 * A source action with a trigger of its own starts when one of the trigger's push filters matches;
 * one without starts on every commit to its configured branch. `DetectChanges: false` opts out.
 */
import picomatch from "picomatch";
import type {
  ActionDeclaration,
  GitFilterPatterns,
  GitPushFilter,
  PipelineDocument,
} from "../pipeline/document";

export interface Push {
  /** Clone URLs and web URLs of the repository the push went to; empty when unknown. */
  repositoryUrls: string[];
  /** The branch pushed to (refs/heads/<branch>), or null for a tag push. */
  branch: string | null;
  /** The tag pushed (refs/tags/<tag>), or null. */
  tag: string | null;
  /** The commit the ref points to now. */
  commitId: string;
  /** The head commit's message, when the push says. */
  message: string | null;
  /** A URL to the commit, when the push says. */
  url: string | null;
  /** Paths added, modified or removed by the pushed commits; null when the push does not say. */
  changedFiles: string[] | null;
}

export interface PushMatch {
  action: ActionDeclaration;
  /** Why it starts, for the execution's trigger detail. */
  reason: string;
}

function isGitSource(action: ActionDeclaration): boolean {
  return (
    action.actionTypeId.category === "Source" &&
    action.actionTypeId.owner === "Sluice" &&
    action.actionTypeId.provider === "Git"
  );
}

/** `https://host/org/repo.git`, `git@host:org/repo`, `https://host/org/repo/` → `host/org/repo`. */
export function normalizeRepository(url: string): string {
  let text = url.trim().toLowerCase();
  text = text.replace(/^[a-z+]+:\/\//, "").replace(/^[^@/]+@/, "");
  text = text.replace(/^([^/:]+):(?!\d)/, "$1/");
  return text.replace(/\/+$/, "").replace(/\.git$/, "");
}

function matches(patterns: GitFilterPatterns | null, values: string[]): boolean | null {
  if (patterns === null) return null;
  const included = (v: string) =>
    patterns.includes.length === 0 || patterns.includes.some((p) => picomatch.isMatch(v, p, { dot: true }));
  const excluded = (v: string) => patterns.excludes.some((p) => picomatch.isMatch(v, p, { dot: true }));
  return values.some((v) => included(v) && !excluded(v));
}

/** A push filter matches when every part it has matches (AWS: branches/tags, then file paths). */
function filterMatches(filter: GitPushFilter, push: Push): boolean {
  const ref =
    push.tag !== null
      ? matches(filter.tags, [push.tag])
      : push.branch !== null
        ? matches(filter.branches, [push.branch])
        : false;
  if (ref !== true) return false;
  if (filter.filePaths === null) return true;
  // A push that does not list its files cannot be filtered by them: it starts (better than missing one).
  return push.changedFiles === null || matches(filter.filePaths, push.changedFiles) === true;
}

export function sourcesStartedBy(document: PipelineDocument, push: Push): PushMatch[] {
  const sources = document.stages.flatMap((stage) => stage.actions).filter(isGitSource);
  const pushed = new Set(push.repositoryUrls.map(normalizeRepository));
  const out: PushMatch[] = [];
  for (const action of sources) {
    if (action.configuration.DetectChanges?.toLowerCase() === "false") continue;
    const repository = action.configuration.Repository ?? "";
    const sameRepository =
      pushed.size === 0 ? sources.length === 1 : pushed.has(normalizeRepository(repository));
    if (!sameRepository) continue;
    const triggers = document.triggers.filter((t) => t.gitConfiguration.sourceActionName === action.name);
    if (triggers.length > 0) {
      const hit = triggers.some((t) => t.gitConfiguration.push.some((f) => filterMatches(f, push)));
      if (hit) out.push({ action, reason: `push to ${refName(push)} matched a trigger of ${action.name}` });
    } else if (push.branch !== null && push.branch === action.configuration.Branch) {
      out.push({ action, reason: `push to branch ${push.branch}` });
    }
  }
  return out;
}

function refName(push: Push): string {
  return push.tag !== null ? `tag ${push.tag}` : `branch ${push.branch ?? "?"}`;
}
