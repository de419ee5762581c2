import {
  actionFor,
  argumentsOf,
  fillTemplate,
  operationPermissions,
  PUBLIC_OPERATIONS,
  resolveResource,
  SELF_SERVICE_OPERATIONS,
  type ResourceLookups,
} from "./operations";

/** Two executions and one action execution, as the checker's lookups would find them. */
const lookups: ResourceLookups = {
  pipelineOfExecution: async (id) =>
    ({ e1: { account: "acct1", pipeline: "web" }, e9: { account: "other", pipeline: "web" } })[id] ?? null,
  actionOfActionExecution: async (id) =>
    ({
      ae1: { account: "acct1", pipeline: "web", stage: "Prod", action: "Approve" },
      ae9: { account: "other", pipeline: "web", stage: "Prod", action: "Approve" },
    })[id] ?? null,
  principalOfApiToken: async (id) => (id === "t1" ? { account: "acct1", principal: "user/alice" } : null),
  trustPolicyOfRole: async () => null,
};

const resolve = (key: keyof typeof operationPermissions, args: Record<string, unknown>) =>
  resolveResource(operationPermissions[key].resource, args, "acct1", lookups);

describe("operation permissions", () => {
  it("names identities: a principal argument, an API token's owner, the caller", async () => {
    expect(await resolve("Mutation.createApiToken", { principal: "service-account/ci" })).toEqual({
      kind: "one",
      srn: "srn:sluice:acct1:service-account/ci",
    });
    expect(await resolve("Mutation.attachPolicy", { principal: "user/*" })).toMatchObject({
      kind: "unresolved",
    });
    expect(await resolve("Query.apiTokens", { principal: null })).toEqual({ kind: "each", of: "user" });
    expect(await resolve("Mutation.revokeApiToken", { id: "t1" })).toEqual({
      kind: "one",
      srn: "srn:sluice:acct1:user/alice",
    });
    expect(await resolve("Mutation.revokeApiToken", { id: "t2" })).toMatchObject({ kind: "unresolved" });
    expect(await resolve("Query.whoAmI", {})).toEqual({ kind: "caller" });
    expect(await resolve("Mutation.signOut", {})).toEqual({ kind: "caller" });
    expect(await resolve("Mutation.signIn", { name: "x", password: "y" })).toEqual({ kind: "public" });
  });

  it("names the resource from the arguments", async () => {
    expect(await resolve("Query.pipeline", { name: "web" })).toEqual({
      kind: "one",
      srn: "srn:sluice:acct1:pipeline/web",
    });
    expect(await resolve("Mutation.createPipeline", { input: { name: "web", stages: [] } })).toEqual({
      kind: "one",
      srn: "srn:sluice:acct1:pipeline/web",
    });
    expect(
      await resolve("Mutation.rollbackStage", {
        pipelineName: "web",
        stageName: "Prod",
        targetExecutionId: "x",
      }),
    ).toEqual({
      kind: "one",
      srn: "srn:sluice:acct1:pipeline/web/stage/Prod",
    });
    // Custom action types are the installation's: made and deleted in the default account only.
    expect(
      await resolve("Mutation.deleteCustomActionType", {
        category: "Build",
        provider: "Gradle",
        version: "1",
      }),
    ).toEqual({ kind: "one", srn: "srn:sluice:default:action-type/Build/Custom/Gradle/1" });
    expect(await resolve("Query.auditEvents", { first: 50 })).toEqual({
      kind: "one",
      srn: "srn:sluice:acct1:audit",
    });
  });

  it("tagging names the pipeline by its SRN, pipeline/<name> or its pipelineArn; nothing else", async () => {
    for (const resourceArn of [
      "srn:sluice:acct1:pipeline/web",
      "pipeline/web",
      "arn:sluice:codepipeline:::web",
    ])
      expect(await resolve("Mutation.tagResource", { resourceArn })).toEqual({
        kind: "one",
        srn: "srn:sluice:acct1:pipeline/web",
      });
    // An SRN of another account's pipeline names that one (the checker refuses it: another account).
    expect(
      await resolve("Query.listTagsForResource", { resourceArn: "srn:sluice:other:pipeline/web" }),
    ).toEqual({ kind: "one", srn: "srn:sluice:other:pipeline/web" });
    for (const resourceArn of [
      "web",
      "srn:sluice:acct1:pipeline/web/stage/Prod",
      "srn:sluice:acct1:secret/db",
      "pipeline/*",
      "pipeline/a/b",
      3,
    ])
      expect(await resolve("Mutation.untagResource", { resourceArn })).toMatchObject({ kind: "unresolved" });
  });

  it("imports name the pipeline in Sluice's document or in CodePipeline's", async () => {
    expect(await resolve("Mutation.importPipeline", { document: { name: "web" } })).toMatchObject({
      srn: "srn:sluice:acct1:pipeline/web",
    });
    expect(
      await resolve("Mutation.importPipeline", { document: { pipeline: { name: "api" } } }),
    ).toMatchObject({
      srn: "srn:sluice:acct1:pipeline/api",
    });
    expect(await resolve("Mutation.importPipeline", { document: { pipeline: {} } })).toEqual({
      kind: "unresolved",
      reason: "document.name or document.pipeline.name must name the resource.",
    });
  });

  it("finds the pipeline, stage and action behind execution ids", async () => {
    expect(await resolve("Mutation.retryStage", { executionId: "e1", stageName: "Prod" })).toEqual({
      kind: "one",
      srn: "srn:sluice:acct1:pipeline/web/stage/Prod",
    });
    expect(await resolve("Mutation.stopExecution", { executionId: "e1" })).toEqual({
      kind: "one",
      srn: "srn:sluice:acct1:pipeline/web",
    });
    expect(await resolve("Mutation.putApprovalResult", { actionExecutionId: "ae1", approved: true })).toEqual(
      {
        kind: "one",
        srn: "srn:sluice:acct1:pipeline/web/stage/Prod/action/Approve",
      },
    );
    expect(await resolve("Mutation.stopExecution", { executionId: "nope" })).toEqual({
      kind: "unresolved",
      reason: 'No execution "nope" exists.',
    });
    expect(await resolve("Subscription.actionLog", { actionExecutionId: "nope" })).toMatchObject({
      kind: "unresolved",
    });
  });

  it("lists and streams over many resources filter each item", async () => {
    expect(await resolve("Query.pipelines", { first: 20 })).toEqual({ kind: "each", of: "pipeline" });
    expect(await resolve("Subscription.pipelineEvents", { pipelineName: null })).toEqual({
      kind: "each",
      of: "pipeline",
    });
    expect(await resolve("Subscription.pipelineEvents", { pipelineName: "web" })).toEqual({
      kind: "one",
      srn: "srn:sluice:acct1:pipeline/web",
    });
  });

  it("refuses values that would name another resource, or many", async () => {
    expect(await resolve("Query.pipeline", { name: "web/stage/Prod" })).toMatchObject({ kind: "unresolved" });
    expect(await resolve("Query.pipeline", { name: "*" })).toMatchObject({ kind: "unresolved" });
    expect(await resolve("Mutation.rollbackStage", { pipelineName: "web", stageName: "a:b" })).toMatchObject({
      kind: "unresolved",
    });
    expect(await resolve("Mutation.retryStage", { executionId: "e1", stageName: 3 })).toMatchObject({
      kind: "unresolved",
    });
    expect(fillTemplate("pipeline/{name}", {})).toEqual({
      ok: false,
      absent: true,
      reason: "name must name the resource.",
    });
  });

  it("a mutation of GitHub's style reads what its older one reads, from the fields of `input`", async () => {
    const input = (args: Record<string, unknown>) =>
      resolveResource(
        operationPermissions["Mutation.retryStageExecution"].resource,
        argumentsOf(operationPermissions["Mutation.retryStageExecution"], args),
        "acct1",
        lookups,
      );
    expect(await input({ input: { executionId: "e1", stageName: "Prod" } })).toEqual({
      kind: "one",
      srn: "srn:sluice:acct1:pipeline/web/stage/Prod",
    });
    // The old arguments at the top level name nothing for it.
    expect(await input({ executionId: "e1", stageName: "Prod" })).toMatchObject({ kind: "unresolved" });
    expect(await input({ input: null })).toMatchObject({ kind: "unresolved" });
    const create = operationPermissions["Mutation.createPipelineV2"];
    expect(
      await resolveResource(
        create.resource,
        argumentsOf(create, { input: { pipeline: { name: "web" } } }),
        "acct1",
        lookups,
      ),
    ).toEqual({ kind: "one", srn: "srn:sluice:acct1:pipeline/web" });
    expect(actionFor(operationPermissions["Mutation.disableStageTransition"], { input: {} })).toBe(
      "sluice:DisableStageTransition",
    );
  });

  it("toggleTransition's action follows `enabled`", () => {
    const permission = operationPermissions["Mutation.toggleTransition"];
    expect(actionFor(permission, { enabled: true })).toBe("sluice:EnableStageTransition");
    expect(actionFor(permission, { enabled: false })).toBe("sluice:DisableStageTransition");
    expect(actionFor(operationPermissions["Query.pipeline"], {})).toBe("sluice:GetPipeline");
  });
});

it("signIn is the one operation open to anonymous callers; signOut and changePassword are self-service", () => {
  expect(PUBLIC_OPERATIONS).toEqual(["Mutation.signIn", "Mutation.signInV2"]);
  expect([...SELF_SERVICE_OPERATIONS].sort()).toEqual([
    "Mutation.changePassword",
    "Mutation.changePasswordV2",
    "Mutation.signIn",
    "Mutation.signInV2",
    "Mutation.signOut",
    "Mutation.signOutV2",
    "Query.whoAmI",
  ]);
});
