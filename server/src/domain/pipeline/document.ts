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
  awsMetadata: AwsMetadata | null;
}

export interface StageDeclaration {
  name: string;
  actions: ActionDeclaration[];
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

export interface PipelineDocument {
  name: string;
  executionMode: ExecutionMode;
  variables: PipelineVariable[];
  triggers: PipelineTrigger[];
  stages: StageDeclaration[];
  awsMetadata: AwsMetadata | null;
}
