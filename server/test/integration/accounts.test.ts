/**
 * Accounts and delegation (issue #10) on a real server, PostgreSQL and NATS: a new account gets
 * its access role; a user of account B assumes a role of the default account whose trust policy
 * names them, acts with the role's policies only until the credentials expire (the open
 * subscription closes, then every request is UNAUTHENTICATED), and both accounts' audit logs show
 * the real principal and the assumed role. Without the role, B's principals can do nothing in the
 * default account, whatever their own policies say.
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { CREATE } from "../support/documents";
import {
  ADMIN_TOKEN,
  dataOf,
  startTestServer,
  type GraphQLResponse,
  type TestServer,
} from "../support/server";
import { eventually } from "../support/wait";
import { GIT, TestWorker } from "../support/worker";

jest.setTimeout(120_000);

let t: TestServer;
let worker: TestWorker;
beforeAll(async () => {
  t = await startTestServer();
  worker = await TestWorker.start(t.natsPrefix, [GIT], () => ({
    outcome: "Succeeded",
    outputVariables: { CommitId: "abc123" },
  }));
});
afterAll(async () => {
  await worker.stop();
  await t.stop();
});

const codeOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.code;
const as = (token: string) => ({ token });

const ASSUME = `mutation ($r: String!, $s: String!, $d: Int) {
  assumeRole(role: $r, sessionName: $s, durationSeconds: $d) {
    secret tokenId expiresAt assumedRole { srn account name sessionName expiresAt }
  }
}`;
const WHOAMI = `{ whoAmI { principal srn kind name account actingAccount groups
  assumedRole { srn account name sessionName } policies { name attachedTo } } }`;
const RELEASE = `mutation ($p: String!) { releaseChange(pipelineName: $p) { id } }`;
const AUDIT = `query ($o: String) { auditEvents(first: 100, operation: $o) {
  nodes { principal operation pipelineName outcome account principalAccount assumedRole } } }`;

const web = {
  name: "web",
  stages: [
    {
      name: "Source",
      actions: [
        {
          name: "Checkout",
          actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
          configuration: { Repository: "https://git.example/app.git", Branch: "main" },
          outputArtifacts: [{ name: "Src" }],
        },
      ],
    },
    {
      name: "Prod",
      actions: [
        {
          name: "Approve",
          actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
        },
      ],
    },
  ],
};

const trustOf = (...principals: string[]) => ({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "sluice:AssumeRole", Principal: { Sluice: principals } }],
});

async function assume(token: string, role: string, sessionName: string, durationSeconds?: number) {
  return t.gql(ASSUME, { r: role, s: sessionName, d: durationSeconds ?? null }, as(token));
}

describe("accounts and cross-account roles", () => {
  let bAdmin: string; // a session of team-b's AccountAccessRole, assumed by the installation's admin
  let bob: string; // team-b's user bob (Admin in team-b)

  it("createAccount makes a tenant with its access role; accounts are listed per permission", async () => {
    const created = dataOf(
      await t.gql(
        `mutation { createAccount(id: "team-b", description: "Team B") { id description createdBy } }`,
      ),
    ).createAccount;
    expect(created).toEqual({ id: "team-b", description: "Team B", createdBy: "user/admin" });
    expect(codeOf(await t.gql(`mutation { createAccount(id: "team-b") { id } }`))).toBe("CONFLICT");
    const bad = await t.gql(`mutation { createAccount(id: "bad id!") { id } }`);
    expect(codeOf(bad)).toBe("BAD_USER_INPUT");
    expect(bad.errors?.[0]?.extensions?.validationErrors?.[0]?.path).toBe("id");
    const { accounts } = dataOf(await t.gql(`{ accounts { id } }`));
    expect(accounts.map((a: { id: string }) => a.id)).toEqual(["default", "team-b"]);

    // The installation's admin enters team-b through its access role and sets it up.
    const session = dataOf(
      await assume(ADMIN_TOKEN, "srn:sluice:team-b:role/AccountAccessRole", "setup"),
    ).assumeRole;
    expect(session.assumedRole).toMatchObject({ account: "team-b", name: "AccountAccessRole" });
    bAdmin = session.secret;
    dataOf(await t.gql(`mutation { createUser(name: "bob") { name } }`, {}, as(bAdmin)));
    dataOf(await t.gql(`mutation { createUser(name: "carol") { name } }`, {}, as(bAdmin)));
    dataOf(
      await t.gql(`mutation { attachPolicy(policyName: "Admin", principal: "user/bob") }`, {}, as(bAdmin)),
    );
    bob = dataOf(
      await t.gql(
        `mutation { createApiToken(principal: "user/bob", description: "bob") { secret token { principal } } }`,
        {},
        as(bAdmin),
      ),
    ).createApiToken.secret;
    // Users are per account: the default account has no bob, and a bob can be made there too.
    expect(dataOf(await t.gql(`{ apiTokens(principal: "user/bob") { id } }`)).apiTokens).toEqual([]);
    expect(
      dataOf(await t.gql(`{ apiTokens(principal: "user/bob") { principal } }`, {}, as(bAdmin))).apiTokens,
    ).toEqual([{ principal: "user/bob" }]);
    // bob, Admin in team-b, lists no account (accounts are the default account's resources).
    expect(dataOf(await t.gql(`{ accounts { id } }`, {}, as(bob))).accounts).toEqual([]);
    expect(codeOf(await t.gql(`mutation { createAccount(id: "team-c") { id } }`, {}, as(bob)))).toBe(
      "FORBIDDEN",
    );
  });

  it("a principal's own policies grant nothing outside its account", async () => {
    dataOf(await t.gql(CREATE, { input: web }));
    // `web` in bob's request is team-b's (it has none): the default account's is out of reach.
    const refused = await t.gql(RELEASE, { p: "web" }, as(bob));
    expect(codeOf(refused)).toBe("NOT_FOUND");
    expect(refused.errors?.[0]?.message).toBe('No pipeline is named "web".');
    // Named by its SRN, the default account's pipeline is refused whatever bob's policies say.
    const tagged = await t.gql(
      `mutation { tagResource(resourceArn: "srn:sluice:default:pipeline/web", tags: [{ key: "k", value: "v" }]) { resourceArn } }`,
      {},
      as(bob),
    );
    expect(codeOf(tagged)).toBe("FORBIDDEN");
    expect(tagged.errors?.[0]?.message).toBe(
      "You are not allowed sluice:TagResource on srn:sluice:default:pipeline/web.",
    );
    // Lists are filtered the same way: Admin in team-b sees none of the default account's pipelines.
    expect(dataOf(await t.gql(`{ pipelines { nodes { name } } }`, {}, as(bob))).pipelines.nodes).toEqual([]);
  });

  it("bob assumes the default account's deployer role, releases web with it, and nothing more", async () => {
    dataOf(
      await t.gql(`mutation ($d: JSONObject!) { putPolicy(name: "release-web", document: $d) { name } }`, {
        d: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: ["sluice:StartPipelineExecution", "sluice:GetPipeline", "sluice:GetPipelineState"],
              Resource: "srn:sluice:default:pipeline/web",
            },
          ],
        },
      }),
    );
    const role = dataOf(
      await t.gql(
        `mutation ($t: JSONObject!) { createRole(name: "deployer", trustPolicy: $t, maxSessionSeconds: 600) { srn account maxSessionSeconds } }`,
        { t: trustOf("srn:sluice:team-b:user/bob", "srn:sluice:team-b:group/release-*") },
      ),
    ).createRole;
    expect(role).toEqual({
      srn: "srn:sluice:default:role/deployer",
      account: "default",
      maxSessionSeconds: 600,
    });
    dataOf(await t.gql(`mutation { attachPolicy(policyName: "release-web", principal: "role/deployer") }`));
    // A role whose trust policy names someone else.
    dataOf(
      await t.gql(`mutation ($t: JSONObject!) { createRole(name: "auditor", trustPolicy: $t) { name } }`, {
        t: trustOf("srn:sluice:team-b:user/carol"),
      }),
    );
    dataOf(await t.gql(`mutation { attachPolicy(policyName: "Admin", principal: "role/auditor") }`));

    // Not named: refused, as for a role that does not exist (no existence leak).
    const untrusted = await assume(bob, "srn:sluice:default:role/auditor", "try");
    expect(codeOf(untrusted)).toBe("FORBIDDEN");
    expect(untrusted.errors?.[0]?.message).toBe(
      "You are not allowed sluice:AssumeRole on srn:sluice:default:role/auditor.",
    );
    expect(untrusted.errors?.[0]?.message.replace("auditor", "nope")).toBe(
      (await assume(bob, "srn:sluice:default:role/nope", "try")).errors?.[0]?.message,
    );
    // Beyond the role's maximum session duration: bad input, nothing issued.
    expect(codeOf(await assume(bob, "srn:sluice:default:role/deployer", "long", 601))).toBe("BAD_USER_INPUT");

    const session = dataOf(
      await assume(bob, "srn:sluice:default:role/deployer", "bob-release", 600),
    ).assumeRole;
    expect(session.assumedRole).toEqual({
      srn: "srn:sluice:default:role/deployer",
      account: "default",
      name: "deployer",
      sessionName: "bob-release",
      expiresAt: session.expiresAt,
    });
    const expiresIn = Date.parse(session.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(590_000);
    expect(expiresIn).toBeLessThanOrEqual(600_000);

    // The session's credentials are bob's tokens (team-b can revoke them), marked with the role.
    const tokens = dataOf(
      await t.gql(`{ apiTokens(principal: "user/bob") { id roleSession } }`, {}, as(bob)),
    ).apiTokens;
    expect(tokens).toContainEqual({
      id: session.tokenId,
      roleSession: "srn:sluice:default:role/deployer (session bob-release)",
    });
    expect(tokens).toContainEqual({ id: expect.any(String), roleSession: null });
    const who = dataOf(await t.gql(WHOAMI, {}, as(session.secret))).whoAmI;
    expect(who).toEqual({
      principal: "user/bob",
      srn: "srn:sluice:team-b:user/bob",
      kind: "user",
      name: "bob",
      account: "team-b",
      actingAccount: "default",
      groups: [],
      assumedRole: {
        srn: "srn:sluice:default:role/deployer",
        account: "default",
        name: "deployer",
        sessionName: "bob-release",
      },
      policies: [{ name: "release-web", attachedTo: "role/deployer" }],
    });

    const started = dataOf(await t.gql(RELEASE, { p: "web" }, as(session.secret))).releaseChange;
    expect(started.id).toEqual(expect.any(String));
    // The role's policies only: not bob's Admin (of team-b), not more than release-web.
    expect(codeOf(await t.gql(`mutation { deletePipeline(name: "web") }`, {}, as(session.secret)))).toBe(
      "FORBIDDEN",
    );
    expect(codeOf(await t.gql(`mutation { createUser(name: "eve") { name } }`, {}, as(session.secret)))).toBe(
      "FORBIDDEN",
    );
    // A role session cannot assume another role (no chaining).
    expect(codeOf(await assume(session.secret, "srn:sluice:team-b:role/AccountAccessRole", "chain"))).toBe(
      "FORBIDDEN",
    );

    // Both accounts' audit logs hold the release, with the real principal and the assumed role.
    const expected = {
      principal: "user/bob",
      operation: "releaseChange",
      pipelineName: "web",
      outcome: "ok",
      account: "default",
      principalAccount: "team-b",
      assumedRole: "srn:sluice:default:role/deployer (session bob-release)",
    };
    const inDefault = dataOf(await t.gql(AUDIT, { o: "releaseChange" })).auditEvents.nodes;
    expect(inDefault).toContainEqual(expected);
    const inTeamB = dataOf(await t.gql(AUDIT, { o: "releaseChange" }, as(bob))).auditEvents.nodes;
    expect(inTeamB).toContainEqual(expected);
    // bob's release of team-b's (missing) web, without the role, is in team-b's log, not the default's.
    const refused = { ...expected, outcome: "NOT_FOUND", account: "team-b", assumedRole: null };
    expect(inTeamB).toContainEqual(refused);
    expect(inDefault).not.toContainEqual(refused);
    // The session itself: assumeRole is in both logs too, the refused attempts included.
    for (const token of [undefined, bob]) {
      const assumed = dataOf(await t.gql(AUDIT, { o: "assumeRole" }, token ? as(token) : {})).auditEvents
        .nodes;
      expect(assumed).toContainEqual(
        expect.objectContaining({
          principal: "user/bob",
          account: "default",
          principalAccount: "team-b",
          outcome: "ok",
        }),
      );
      expect(assumed).toContainEqual(
        expect.objectContaining({ principal: "user/bob", principalAccount: "team-b", outcome: "FORBIDDEN" }),
      );
    }
    // team-b's log does not show what the default account did on its own.
    expect(
      inTeamB.every(
        (e: { principalAccount: string; account: string }) =>
          e.principalAccount === "team-b" || e.account === "team-b",
      ),
    ).toBe(true);
  });

  it("the credentials stop working when they expire: the subscription closes, then UNAUTHENTICATED", async () => {
    const session = dataOf(await assume(bob, "srn:sluice:default:role/deployer", "short", 6)).assumeRole;
    const expiresAt = Date.parse(session.expiresAt);
    const client: Client = createClient({
      url: t.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${session.secret}` },
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
    });
    const closed = new Promise<number>((resolve) =>
      client.on("closed", (e) => resolve((e as { code: number }).code)),
    );
    await new Promise<void>((resolve) => client.on("connected", () => resolve()));
    const ended = new Promise<unknown>((resolve) =>
      client.subscribe(
        { query: `subscription { pipelineEvents(pipelineName: "web") { type } }` },
        { next: () => {}, error: resolve, complete: () => resolve(null) },
      ),
    );
    expect(
      dataOf(await t.gql(`{ pipeline(name: "web") { name } }`, {}, as(session.secret))).pipeline,
    ).toEqual({
      name: "web",
    });
    expect(await closed).toBe(4403);
    await ended;
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt);
    // Refused from then on (bounded poll: the close proves expiry was seen on the server).
    await eventually(
      async () =>
        codeOf(await t.gql(`{ whoAmI { principal } }`, {}, as(session.secret))) === "UNAUTHENTICATED",
      10_000,
      "the expired credentials to be refused",
    );
    expect(codeOf(await t.gql(RELEASE, { p: "web" }, as(session.secret)))).toBe("UNAUTHENTICATED");
    await client.dispose();
  });

  it("roles are per account, and attach-policy, bad input and deleteRole behave", async () => {
    const names = (r: GraphQLResponse) => r.data?.roles.map((x: { name: string }) => x.name);
    expect(names(await t.gql(`{ roles { name } }`))).toEqual(["auditor", "deployer"]);
    expect(names(await t.gql(`{ roles { name } }`, {}, as(bob)))).toEqual(["AccountAccessRole"]);
    const badTrust = await t.gql(
      `mutation ($t: JSONObject!) { createRole(name: "x", trustPolicy: $t) { name } }`,
      { t: { Statement: [{ Effect: "Allow", Action: "sluice:AssumeRole", Principal: "*" }] } },
    );
    expect(codeOf(badTrust)).toBe("BAD_USER_INPUT");
    expect(badTrust.errors?.[0]?.extensions?.validationErrors?.[0]?.path).toBe(
      "trustPolicy.Statement[0].Principal",
    );
    expect(
      codeOf(
        await t.gql(
          `mutation { createRole(name: "deployer", trustPolicy: { Statement: [{ Effect: "Allow", Action: "sluice:AssumeRole", Principal: { Sluice: "srn:sluice:team-b:root" } }] }) { name } }`,
        ),
      ),
    ).toBe("CONFLICT");

    // A session of a deleted role stops working at once.
    const session = dataOf(await assume(bob, "srn:sluice:default:role/deployer", "doomed", 600)).assumeRole;
    dataOf(await t.gql(RELEASE, { p: "web" }, as(session.secret)));
    expect(dataOf(await t.gql(`mutation { deleteRole(name: "deployer") }`)).deleteRole).toBe(true);
    expect(codeOf(await t.gql(RELEASE, { p: "web" }, as(session.secret)))).toBe("UNAUTHENTICATED");
    expect(codeOf(await assume(bob, "srn:sluice:default:role/deployer", "again"))).toBe("FORBIDDEN");
  });
});
