/**
 * Small AWS declarations for the mapping tests, in get-pipeline's shapes: a pipeline whose first
 * stage is a CodeCommit source and whose second is a CodeBuild build, with overrides.
 */
type Json = Record<string, unknown>;

export const ROLE_ARN = "arn:aws:iam::111122223333:role/service-role/AWSCodePipelineServiceRole-app";

export function awsTypeId(category: string, provider: string, owner = "AWS", version = "1"): Json {
  return { category, owner, provider, version };
}

export function codeCommitSource(overrides: Json = {}): Json {
  return {
    name: "Checkout",
    actionTypeId: awsTypeId("Source", "CodeCommit"),
    runOrder: 1,
    configuration: { RepositoryName: "app", BranchName: "main" },
    outputArtifacts: [{ name: "Src" }],
    inputArtifacts: [],
    ...overrides,
  };
}

export function codeBuild(overrides: Json = {}): Json {
  return {
    name: "Build",
    actionTypeId: awsTypeId("Build", "CodeBuild"),
    runOrder: 1,
    configuration: { ProjectName: "app-build" },
    outputArtifacts: [],
    inputArtifacts: [{ name: "Src" }],
    ...overrides,
  };
}

/** A pipeline declaration (no wrapper) with one source stage and one stage of `actions`. */
export function awsDeclaration(options: { source?: Json; actions?: Json[]; fields?: Json } = {}): Json {
  return {
    name: "app",
    roleArn: ROLE_ARN,
    artifactStore: { type: "S3", location: "codepipeline-us-east-1-111122223333" },
    stages: [
      { name: "Source", actions: [options.source ?? codeCommitSource()] },
      { name: "Build", actions: options.actions ?? [codeBuild()] },
    ],
    version: 1,
    executionMode: "SUPERSEDED",
    pipelineType: "V2",
    ...options.fields,
  };
}
