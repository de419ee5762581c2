/**
 * The pipeline document: what a user writes, exports and imports. Field names and structure
 * follow the CodePipeline declaration (shared/PIPELINE-MODEL.md). These are the *normalized*
 * shapes: defaults filled in, every list present. `parsePipelineDocument` produces them from
 * untrusted JSON; everything else in the server works on them.
 */

export const EXECUTION_MODES = ["SUPERSEDED", "QUEUED", "PARALLEL"] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

export const ACTION_CATEGORIES = ["Source", "Build", "Test", "Deploy", "Approval", "Invoke"] as const;
export type ActionCategory = (typeof ACTION_CATEGORIES)[number];

/** `Sluice` built-ins, `Custom` user types. AWS/ThirdParty only appear in AWS documents before import maps them. */
export const ACTION_OWNERS = ["Sluice", "Custom"] as const;
export type ActionOwner = (typeof ACTION_OWNERS)[number];

export interface ActionTypeId {
  category: ActionCategory;
  owner: ActionOwner;
  provider: string;
  version: string;
}

export interface ArtifactRef {
  name: string;
}

/** Opaque fields kept from an imported AWS document and written back by the AWS export. */
export type AwsMetadata = Record<string, unknown>;

export interface ActionDeclaration {
  name: string;
  actionTypeId: ActionTypeId;
  /** 1–999, default 1. */
  runOrder: number;
  configuration: Record<string, string>;
  inputArtifacts: ArtifactRef[];
  outputArtifacts: ArtifactRef[];
  namespace: string | null;
  /** Sluice: the agent pool that runs the action; null means the default pool. */
  region: string | null;
  /** null means the category's default timeout. */
  timeoutInMinutes: number | null;
  /** Sluice: when a failed attempt runs again by itself; null means the category's default policy. */
  retryPolicy: RetryPolicy | null;
  awsMetadata: AwsMetadata | null;
}

/**
 * Why an attempt failed, as a retry policy names it: the agent running it was lost (no heartbeat
 * for the lease), it failed (the agent reported a failure), or it ran out of time.
 */
export const RETRY_CONDITIONS = ["AGENT_LOST", "FAILED", "TIMED_OUT"] as const;
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];

export interface RetryPolicy {
  /** Attempts in all, the first included: 1–10. */
  maxAttempts: number;
  /** Wait before the next attempt: 0–3,600 s. */
  backoffSeconds: number;
  on: RetryCondition[];
}

/**
 * Sluice: what a newer execution arriving at a stage's entry does to the execution holding the
 * stage. null (the default) is CodePipeline's rule: the holder keeps the stage and the newer one
 * waits. SUPERSEDE_PENDING_APPROVAL: when all the holder has left in the stage is a manual
 * approval nobody has decided yet, the holder ends Superseded and the newer one enters.
 */
export const ON_NEWER_REVISION_VALUES = ["SUPERSEDE_PENDING_APPROVAL"] as const;
export type OnNewerRevision = (typeof ON_NEWER_REVISION_VALUES)[number];

export interface StageDeclaration {
  name: string;
  actions: ActionDeclaration[];
  /** Sluice only; null means the newer execution waits (see OnNewerRevision). */
  onNewerRevision: OnNewerRevision | null;
  awsMetadata: AwsMetadata | null;
}

export interface PipelineVariable {
  name: string;
  defaultValue: string | null;
  description: string | null;
}

export interface GitFilterPatterns {
  includes: string[];
  excludes: string[];
}

export interface GitPushFilter {
  branches: GitFilterPatterns | null;
  filePaths: GitFilterPatterns | null;
  tags: GitFilterPatterns | null;
}

export interface PipelineTrigger {
  providerType: "Git";
  gitConfiguration: {
    sourceActionName: string;
    push: GitPushFilter[];
  };
}

/**
 * Sluice: start an execution on a timetable (trigger Schedule), e.g. a nightly build. `cron` has
 * five fields (minute hour day-of-month month day-of-week); `timezone` is an IANA name (UTC when
 * null). Each start takes the latest revision of every source.
 */
export interface PipelineSchedule {
  cron: string;
  timezone: string | null;
}

export interface PipelineDocument {
  name: string;
  executionMode: ExecutionMode;
  variables: PipelineVariable[];
  triggers: PipelineTrigger[];
  /** Sluice only; empty: no scheduled starts. */
  schedules: PipelineSchedule[];
  stages: StageDeclaration[];
  awsMetadata: AwsMetadata | null;
}
