import {
  compilePrincipal,
  managedPolicy,
  operationPermissions,
  type ResourceLookups,
} from "../domain/policy";
import { authorize } from "./authorization";
import type { Principal } from "./principal";

const lookups: ResourceLookups = {
  pipelineOfExecution: async (id) => ({ e1: "web", e2: "api" })[id] ?? null,
  actionOfActionExecution: async (id) =>
    ({
      a1: { pipeline: "web", stage: "Prod", action: "Approve" },
      a2: { pipeline: "web", stage: "Staging", action: "Approve" },
      a3: { pipeline: "api", stage: "Prod", action: "Approve" },
    })[id] ?? null,
  principalOfApiToken: async (id) => (id === "t1" ? { account: "default", principal: "user/bob" } : null),
  trustPolicyOfRole: async () => null,
};

function user(
  name: string,
  statements: Array<Record<string, unknown>>,
  managed: Array<"ReadOnly"> = [],
): Principal {
  const policies = compilePrincipal({
    kind: "user",
    name,
    policies: [
      ...managed.map(managedPolicy),
      { name: `${name}-policy`, document: { Version: "2012-10-17", Statement: statements as never } },
    ],
    groups: [],
  });
  return { id: `user/${name}`, kind: "user", name, policies, tokenId: null };
}

const SRN = "srn:sluice:default";
const check = (p: Principal, key: keyof typeof operationPermissions, args: Record<string, unknown>) =>
  authorize(p, operationPermissions[key], args, lookups);

describe("authorize", () => {
  const approver = user(
    "alice",
    [
      {
        Effect: "Allow",
        Action: ["sluice:PutApprovalResult"],
        Resource: [`${SRN}:pipeline/web/stage/Prod/*`],
      },
    ],
    ["ReadOnly"],
  );

  it("allows on the named resource and refuses elsewhere, naming action and resource", async () => {
    expect(await check(approver, "Mutation.putApprovalResult", { actionExecutionId: "a1" })).toMatchObject({
      ok: true,
    });
    expect(await check(approver, "Mutation.putApprovalResult", { actionExecutionId: "a2" })).toEqual({
      ok: false,
      code: "FORBIDDEN",
      message: `You are not allowed sluice:PutApprovalResult on ${SRN}:pipeline/web/stage/Staging/action/Approve.`,
    });
  });

  it("answers NOT_FOUND alike for an unknown id and one the caller may not read", async () => {
    const webOnly = user("wendy", [
      {
        Effect: "Allow",
        Action: ["sluice:GetPipeline", "sluice:GetPipelineExecution"],
        Resource: [`${SRN}:pipeline/web`],
      },
    ]);
    const hidden = await check(webOnly, "Query.pipelineExecution", { id: "e2" });
    const unknown = await check(webOnly, "Query.pipelineExecution", { id: "e9" });
    expect(hidden).toEqual({ ok: false, code: "NOT_FOUND", message: 'No execution "e2" exists.' });
    expect(unknown).toEqual({ ok: false, code: "NOT_FOUND", message: 'No execution "e9" exists.' });
    expect(await check(webOnly, "Query.pipelineExecution", { id: "e1" })).toMatchObject({ ok: true });
    // A pipeline named by its name: decided on the name, FORBIDDEN whether it exists or not.
    expect(await check(webOnly, "Query.pipeline", { name: "api" })).toMatchObject({ code: "FORBIDDEN" });
    expect(await check(webOnly, "Query.pipeline", { name: "nothing" })).toMatchObject({ code: "FORBIDDEN" });
  });

  it("lets a list through when the action may be allowed somewhere, and refuses it otherwise", async () => {
    expect(await check(approver, "Query.pipelines", {})).toEqual({
      ok: true,
      action: "sluice:ListPipelines",
      resource: { kind: "each", of: "pipeline" },
    });
    const nobody = user("nobody", [{ Effect: "Deny", Action: ["*"], Resource: ["*"] }]);
    expect(await check(nobody, "Query.pipelines", {})).toMatchObject({ ok: false, code: "FORBIDDEN" });
    // whoAmI needs no permission.
    expect(await check(nobody, "Query.whoAmI", {})).toMatchObject({ ok: true });
  });

  it("an explicit Deny beats the Allow of a managed policy", async () => {
    const noApi = user(
      "olga",
      [{ Effect: "Deny", Action: ["sluice:Get*"], Resource: [`${SRN}:pipeline/api`] }],
      ["ReadOnly"],
    );
    expect(await check(noApi, "Query.pipeline", { name: "web" })).toMatchObject({ ok: true });
    expect(await check(noApi, "Query.pipeline", { name: "api" })).toMatchObject({ code: "FORBIDDEN" });
  });

  it("identity operations: on the principal named, or the owner of the token", async () => {
    const manager = user("mia", [
      { Effect: "Allow", Action: ["sluice:ManageIdentity"], Resource: [`${SRN}:user/bob`] },
    ]);
    expect(await check(manager, "Mutation.createApiToken", { principal: "user/bob" })).toMatchObject({
      ok: true,
    });
    expect(await check(manager, "Mutation.createApiToken", { principal: "user/carl" })).toMatchObject({
      code: "FORBIDDEN",
    });
    expect(await check(manager, "Mutation.revokeApiToken", { id: "t1" })).toMatchObject({ ok: true });
    expect(await check(approver, "Mutation.revokeApiToken", { id: "t1" })).toEqual({
      ok: false,
      code: "NOT_FOUND",
      message: 'No API token "t1" exists.',
    });
    expect(await check(manager, "Mutation.attachPolicy", { principal: "user/*" })).toMatchObject({
      code: "BAD_USER_INPUT",
    });
  });
});
