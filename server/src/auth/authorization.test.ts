import {
  compilePrincipal,
  managedPolicy,
  operationPermissions,
  type ResourceLookups,
} from "../domain/policy";
import { validateTrustPolicy, type TrustPolicyDocument } from "../domain/policy";
import { authorize, visibleItems } from "./authorization";
import type { Principal } from "./principal";

const lookups: ResourceLookups = {
  pipelineOfExecution: async (id) =>
    ({
      e1: { account: "default", pipeline: "web" },
      e2: { account: "default", pipeline: "api" },
      eb: { account: "team-b", pipeline: "web" },
    })[id] ?? null,
  actionOfActionExecution: async (id) =>
    ({
      a1: { account: "default", pipeline: "web", stage: "Prod", action: "Approve" },
      a2: { account: "default", pipeline: "web", stage: "Staging", action: "Approve" },
      a3: { account: "default", pipeline: "api", stage: "Prod", action: "Approve" },
      ab: { account: "team-b", pipeline: "web", stage: "Prod", action: "Approve" },
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

describe("accounts", () => {
  const trust = (...principals: string[]): TrustPolicyDocument => {
    const result = validateTrustPolicy({
      Statement: [{ Effect: "Allow", Action: "sluice:AssumeRole", Principal: { Sluice: principals } }],
    });
    if (!result.ok) throw new Error(JSON.stringify(result.issues));
    return result.document;
  };
  const roles: Record<string, TrustPolicyDocument> = {
    "default/deployer": trust("srn:sluice:team-b:user/bob", "srn:sluice:team-b:group/release"),
    "default/ops": trust("srn:sluice:default:user/olga"),
  };
  const withRoles: ResourceLookups = {
    ...lookups,
    trustPolicyOfRole: async (account, name) => roles[`${account}/${name}`] ?? null,
  };
  const inAccount = (p: Principal, account: string, groups: string[] = []): Principal => ({
    ...p,
    account,
    homeAccount: account,
    groups,
  });
  const admin = (name: string, account: string, groups: string[] = []) =>
    inAccount(user(name, [{ Effect: "Allow", Action: ["*"], Resource: ["*"] }]), account, groups);
  const as = (p: Principal, key: keyof typeof operationPermissions, args: Record<string, unknown>) =>
    authorize(p, operationPermissions[key], args, withRoles);

  it("a principal's policies grant only in its account: its pipelines are its account's, accounts the default account's", async () => {
    const bob = admin("bob", "team-b");
    // A pipeline named in a request is the account's the caller acts in.
    expect(await as(bob, "Mutation.releaseChange", { pipelineName: "web" })).toMatchObject({
      ok: true,
      resource: { srn: "srn:sluice:team-b:pipeline/web" },
    });
    expect(
      await as(admin("root", "default"), "Mutation.releaseChange", { pipelineName: "web" }),
    ).toMatchObject({ ok: true, resource: { srn: "srn:sluice:default:pipeline/web" } });
    // Another account's execution or action execution, named by id: as unknown, whatever the policies.
    expect(await as(bob, "Mutation.stopExecution", { executionId: "e1" })).toEqual({
      ok: false,
      code: "NOT_FOUND",
      message: 'No execution "e1" exists.',
    });
    expect(await as(bob, "Mutation.stopExecution", { executionId: "eb" })).toMatchObject({ ok: true });
    expect(
      await as(bob, "Mutation.putApprovalResult", { actionExecutionId: "a1", approved: true }),
    ).toMatchObject({ code: "NOT_FOUND" });
    expect(
      await as(bob, "Mutation.putApprovalResult", { actionExecutionId: "ab", approved: true }),
    ).toMatchObject({
      ok: true,
      resource: { srn: "srn:sluice:team-b:pipeline/web/stage/Prod/action/Approve" },
    });
    expect(await as(admin("root", "default"), "Mutation.stopExecution", { executionId: "eb" })).toMatchObject(
      { code: "NOT_FOUND" },
    );
    // Another account's pipeline named by its SRN: refused whatever the policies say.
    expect(
      await as(bob, "Mutation.tagResource", { resourceArn: "srn:sluice:default:pipeline/web", tags: [] }),
    ).toMatchObject({ code: "FORBIDDEN" });
    expect(await as(bob, "Mutation.createAccount", { id: "c" })).toMatchObject({ code: "FORBIDDEN" });
    // Identities, policies and the audit log are its own account's.
    expect(await as(bob, "Mutation.createUser", { name: "x" })).toMatchObject({
      ok: true,
      resource: { srn: "srn:sluice:team-b:user/x" },
    });
    expect(await as(bob, "Query.auditEvents", {})).toMatchObject({
      ok: true,
      resource: { srn: "srn:sluice:team-b:audit" },
    });
    // Another account's API token: as unknown.
    expect(await as(bob, "Mutation.revokeApiToken", { id: "t1" })).toMatchObject({ code: "NOT_FOUND" });
    // Lists: another account's items are never shown.
    expect(visibleItems(bob, "sluice:ListPipelines", ["srn:sluice:default:pipeline/web"], (x) => x)).toEqual(
      [],
    );
    expect(await as(admin("root", "default"), "Mutation.createAccount", { id: "c" })).toMatchObject({
      ok: true,
      resource: { srn: "srn:sluice:default:account/c" },
    });
  });

  it("assumeRole follows the role's trust policy; unknown and untrusted roles get the same answer", async () => {
    const role = "srn:sluice:default:role/deployer";
    expect(await as(admin("bob", "team-b"), "Mutation.assumeRole", { role })).toMatchObject({ ok: true });
    // Named through a group.
    expect(await as(admin("gil", "team-b", ["release"]), "Mutation.assumeRole", { role })).toMatchObject({
      ok: true,
    });
    // Named, but its own policies do not allow sluice:AssumeRole (another account).
    const plainBob = inAccount(user("bob", []), "team-b");
    expect(await as(plainBob, "Mutation.assumeRole", { role })).toMatchObject({ code: "FORBIDDEN" });
    const refused = await as(admin("carol", "team-b"), "Mutation.assumeRole", { role });
    const unknown = await as(admin("carol", "team-b"), "Mutation.assumeRole", {
      role: "srn:sluice:default:role/nope",
    });
    expect(refused).toEqual({
      ok: false,
      code: "FORBIDDEN",
      message: `You are not allowed sluice:AssumeRole on ${role}.`,
    });
    expect(unknown).toEqual({
      ...refused,
      message: refused.ok ? "" : refused.message.replace("deployer", "nope"),
    });
    // In the role's own account, being named is enough; role/<name> means the caller's account.
    expect(
      await as(inAccount(user("olga", []), "default"), "Mutation.assumeRole", { role: "role/ops" }),
    ).toMatchObject({ ok: true });
    // A role session cannot assume a role (no chaining).
    const session: Principal = {
      ...admin("bob", "default"),
      homeAccount: "team-b",
      assumedRole: {
        srn: role,
        account: "default",
        name: "deployer",
        sessionName: "s",
        expiresAt: new Date(Date.now() + 60_000),
      },
    };
    expect(await as(session, "Mutation.assumeRole", { role })).toMatchObject({ code: "FORBIDDEN" });
    expect(await as(admin("bob", "team-b"), "Mutation.assumeRole", { role: "deployer" })).toMatchObject({
      code: "BAD_USER_INPUT",
    });
  });
});
