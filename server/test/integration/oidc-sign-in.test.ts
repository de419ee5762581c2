/**
 * OpenID Connect single sign-on (issue #10) against a real provider (oidc-provider on a loopback
 * port, support/oidc-provider.mjs) and a real server on PostgreSQL and NATS: the authorization
 * code flow with PKCE creates the user, maps the provider's groups to Sluice groups (a member of a
 * group holding ReadOnly reads and cannot write), a second sign-in reuses the user and updates its
 * groups (only those sign-in granted), a bad state, a tampered or replayed callback, another
 * browser's callback, a cancelled sign-in and a taken user name are refused with a readable error
 * on the dashboard's sign-in page, each in the audit log; the session token expires.
 */
import { freePort } from "../support/private-nats";
import { CREATE, simplePipeline } from "../support/documents";
import {
  HttpBrowser,
  signInThroughProvider,
  startOidcProvider,
  type TestAccount,
  type TestProvider,
} from "../support/oidc";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

jest.setTimeout(120_000);

const DASHBOARD = "http://dashboard.example.test";
const SESSION_SECONDS = 20;

let provider: TestProvider;
let t: TestServer;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider({
    redirectUris: [`${base}/auth/oidc/callback`],
    accounts: accounts({
      preferred_username: "alice",
      name: "Alice Liddell",
      email: "alice@example.com",
      groups: ["idp-readers", "idp-unmapped"],
    }),
  });
  t = await startTestServer({
    env: {
      PORT: String(port),
      SLUICE_PUBLIC_URL: base,
      SLUICE_DASHBOARD_URL: DASHBOARD,
      SLUICE_OIDC_ISSUER: provider.issuer,
      SLUICE_OIDC_CLIENT_ID: provider.clientId,
      SLUICE_OIDC_CLIENT_SECRET: provider.clientSecret,
      SLUICE_OIDC_SCOPES: "openid profile email groups",
      SLUICE_OIDC_GROUP_MAP: "idp-readers=Readers,idp-ops=Operators,idp-ops=Auditors",
      SLUICE_SESSION_TTL: `${SESSION_SECONDS}s`,
    },
  });
  for (const [group, policy] of [
    ["Readers", "ReadOnly"],
    ["Operators", "Operator"],
    ["Auditors", "ReadOnly"],
  ] as const) {
    dataOf(await t.gql(`mutation ($n: String!) { createGroup(name: $n) { name } }`, { n: group }));
    dataOf(
      await t.gql(`mutation ($p: String!, $g: String!) { attachPolicy(policyName: $p, principal: $g) }`, {
        p: policy,
        g: `group/${group}`,
      }),
    );
  }
  dataOf(await t.gql(CREATE, { input: simplePipeline("web") }));
});

afterAll(async () => {
  await t?.stop();
  await provider?.stop();
});

/** The provider's accounts: alice as given, and mallory, whose user name is that of Sluice's admin. */
const accounts = (alice: TestAccount) => ({
  "alice-sub": alice,
  "mallory-sub": { preferred_username: "admin", email: "mallory@example.com", groups: ["idp-ops"] },
});

/** Sluice's users whose name starts with `prefix`, as stored. */
async function usersNamed(prefix: string) {
  return t.server.db.query(
    `SELECT name, display_name AS "displayName", email, created_by AS "createdBy" FROM identity_users
      WHERE name LIKE $1 ORDER BY name`,
    [`${prefix}%`],
  );
}

const start = (next = "/pipelines/web") => `${base}/auth/oidc/start?next=${encodeURIComponent(next)}`;

/** The session token and `next` of a flow that ended signed in; fails the test otherwise. */
function sessionOf(landed: URL): { token: string; next: string } {
  const hash = new URLSearchParams(landed.hash.slice(1));
  if (!hash.get("token")) throw new Error(`not signed in: ${landed.href}`);
  expect(landed.origin + landed.pathname).toBe(`${DASHBOARD}/`);
  return { token: hash.get("token")!, next: hash.get("next")! };
}

/** The sign-in page's error of a flow that was refused. */
function refusalOf(landed: URL): string {
  expect(landed.origin + landed.pathname).toBe(`${DASHBOARD}/signin`);
  expect(landed.hash).toBe("");
  return landed.searchParams.get("error")!;
}

async function auditOf(operation: string) {
  const { auditEvents } = dataOf(
    await t.gql(
      `query ($o: String) { auditEvents(first: 50, operation: $o) { nodes { principal outcome error arguments } } }`,
      { o: operation },
    ),
  );
  return auditEvents.nodes as Array<{
    principal: string;
    outcome: string;
    error: string | null;
    arguments: any;
  }>;
}

let aliceToken: string;
let aliceExpiresAt: number;

it("tells the sign-in page that SSO is on, to any origin", async () => {
  const response = await fetch(`${base}/auth/config`, { headers: { origin: DASHBOARD } });
  expect(response.status).toBe(200);
  expect(response.headers.get("access-control-allow-origin")).toBe("*");
  expect(await response.json()).toEqual({
    sso: { label: "Sign in with SSO", startPath: "/auth/oidc/start" },
  });
});

it("signs in with the code flow: creates the user, maps groups, issues a short-lived session", async () => {
  const before = Date.now();
  const browser = new HttpBrowser();
  // The provider sees PKCE (S256), a state and a nonce.
  const first = await browser.request(start());
  expect(first.status).toBe(302);
  const authorize = new URL(first.headers.get("location")!);
  expect(authorize.origin).toBe(provider.issuer);
  expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
  for (const param of ["code_challenge", "state", "nonce"])
    expect(authorize.searchParams.get(param)).toBeTruthy();
  expect(authorize.searchParams.get("redirect_uri")).toBe(`${base}/auth/oidc/callback`);
  const cookie = first.headers.getSetCookie().find((c) => c.startsWith("sluice_oidc_"))!;
  expect(cookie).toMatch(/HttpOnly/i);
  expect(cookie).toMatch(/SameSite=Lax/i);

  const landed = await signInThroughProvider(browser, first.headers.get("location")!, {
    login: "alice-sub",
    dashboardUrl: DASHBOARD,
  });
  const { token, next } = sessionOf(landed);
  expect(token).toMatch(/^slc_/);
  expect(next).toBe("/pipelines/web");
  aliceToken = token;

  const { whoAmI } = dataOf(await t.gql(`{ whoAmI { principal groups } }`, undefined, { token }));
  expect(whoAmI).toEqual({ principal: "user/alice", groups: ["Readers"] });
  expect(await usersNamed("alice")).toEqual([
    {
      name: "alice",
      displayName: "Alice Liddell",
      email: "alice@example.com",
      createdBy: "oidc",
    },
  ]);
  // Read, but not write (the ReadOnly policy of Readers).
  expect(dataOf(await t.gql(`{ pipeline(name: "web") { name } }`, undefined, { token })).pipeline).toEqual({
    name: "web",
  });
  const write = await t.gql(`mutation { deletePipeline(name: "web") }`, undefined, { token });
  expect(write.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

  const { apiTokens } = dataOf(
    await t.gql(`{ apiTokens(principal: "user/alice") { description expiresAt createdBy } }`),
  );
  expect(apiTokens).toHaveLength(1);
  expect(apiTokens[0].description).toBe("dashboard session (SSO)");
  aliceExpiresAt = Date.parse(apiTokens[0].expiresAt);
  expect(aliceExpiresAt).toBeGreaterThanOrEqual(before + SESSION_SECONDS * 1000 - 1000);
  expect(aliceExpiresAt).toBeLessThanOrEqual(Date.now() + SESSION_SECONDS * 1000 + 1000);

  const [signIn] = await auditOf("oidcSignIn");
  expect(signIn).toMatchObject({
    principal: "user/alice",
    outcome: "ok",
    arguments: { issuer: provider.issuer, subject: "alice-sub", groups: ["Readers"] },
  });
});

it("a second sign-in reuses the user (by subject) and updates only the memberships sign-in made", async () => {
  // An administrator's own membership stays whatever the provider says.
  dataOf(await t.gql(`mutation { addUserToGroup(groupName: "Auditors", userName: "alice") }`));
  provider.setAccounts(
    accounts({
      preferred_username: "alice.renamed",
      name: "Alice Pleasance Liddell",
      email: "alice@example.org",
      groups: ["idp-ops"],
    }),
  );
  const { token } = sessionOf(
    await signInThroughProvider(new HttpBrowser(), start("/"), {
      login: "alice-sub",
      dashboardUrl: DASHBOARD,
    }),
  );
  const { whoAmI } = dataOf(await t.gql(`{ whoAmI { principal groups } }`, undefined, { token }));
  expect(whoAmI).toEqual({ principal: "user/alice", groups: ["Auditors", "Operators"] });
  expect(await usersNamed("alice")).toEqual([
    { name: "alice", displayName: "Alice Pleasance Liddell", email: "alice@example.org", createdBy: "oidc" },
  ]);

  // The provider drops idp-ops: Operators (sign-in's) goes, Auditors (the administrator's) stays.
  provider.setAccounts(accounts({ preferred_username: "alice", groups: [] }));
  const third = sessionOf(
    await signInThroughProvider(new HttpBrowser(), start("/"), {
      login: "alice-sub",
      dashboardUrl: DASHBOARD,
    }),
  );
  const after = dataOf(await t.gql(`{ whoAmI { groups } }`, undefined, { token: third.token }));
  expect(after.whoAmI.groups).toEqual(["Auditors"]);
});

it("two tabs of one browser can sign in at once (each flow has its own cookie)", async () => {
  const browser = new HttpBrowser();
  const [one, two] = [await browser.request(start("/one")), await browser.request(start("/two"))];
  expect(browser.cookieNames(base).filter((name) => name.startsWith("sluice_oidc_"))).toHaveLength(2);
  const options = { login: "alice-sub", dashboardUrl: DASHBOARD };
  const second = sessionOf(await signInThroughProvider(browser, two.headers.get("location")!, options));
  const first = sessionOf(await signInThroughProvider(browser, one.headers.get("location")!, options));
  expect([first.next, second.next]).toEqual(["/one", "/two"]);
  expect(first.token).not.toBe(second.token);
  expect(browser.cookieNames(base).filter((name) => name.startsWith("sluice_oidc_"))).toEqual([]);
});

it("refuses a callback with an unknown state, with a readable error and an audit row", async () => {
  const response = await fetch(`${base}/auth/oidc/callback?code=abc&state=forged-state`, {
    redirect: "manual",
  });
  expect(response.status).toBe(302);
  const error = refusalOf(new URL(response.headers.get("location")!));
  expect(error).toBe("This sign-in is unknown or was used already. Start again.");
  const refusals = await auditOf("oidcSignIn");
  expect(refusals[0]).toMatchObject({ principal: "anonymous", outcome: "UNAUTHENTICATED", error });
});

it("refuses a tampered code, a replayed callback and a callback from another browser", async () => {
  // The code changed on its way back: the provider refuses to exchange it.
  const tampered = await signInThroughProvider(new HttpBrowser(), start(), {
    login: "alice-sub",
    dashboardUrl: DASHBOARD,
    onCallback: (url) => {
      url.searchParams.set("code", `${url.searchParams.get("code")}x`);
      return url;
    },
  });
  expect(refusalOf(tampered)).toMatch(/^The identity provider's answer does not verify \(invalid_grant/);

  // The same callback twice: the state is spent by the first.
  let callback: URL | null = null;
  const browser = new HttpBrowser();
  sessionOf(
    await signInThroughProvider(browser, start(), {
      login: "alice-sub",
      dashboardUrl: DASHBOARD,
      onCallback: (url) => (callback = new URL(url.href)),
    }),
  );
  const replay = await browser.request(callback!.href);
  expect(refusalOf(new URL(replay.headers.get("location")!))).toMatch(/unknown or was used already/);

  // A callback made for one browser, opened in another (login CSRF): refused, the flow spent.
  const victim = new HttpBrowser();
  const stolen = await signInThroughProvider(new HttpBrowser(), start(), {
    login: "alice-sub",
    dashboardUrl: DASHBOARD,
    onCallback: (url) => {
      callback = new URL(url.href);
      return new URL(`${base}/auth/oidc/callback?state=not-this-one`);
    },
  });
  expect(refusalOf(stolen)).toMatch(/unknown or was used already/);
  const other = await victim.request(callback!.href);
  expect(refusalOf(new URL(other.headers.get("location")!))).toBe(
    "This sign-in was started in another browser (or its cookie was blocked). Start again here.",
  );
});

it("refuses a sign-in that took longer than its ten minutes", async () => {
  const landed = await signInThroughProvider(new HttpBrowser(), start(), {
    login: "alice-sub",
    dashboardUrl: DASHBOARD,
    // Ten minutes pass at the provider (the flow's deadline, moved instead of waited for).
    onCallback: async (url) => {
      await t.server.db.query(
        `UPDATE oidc_sign_in_flows SET expires_at = now() - interval '1 second' WHERE expires_at > now()`,
      );
      return url;
    },
  });
  expect(refusalOf(landed)).toBe("This sign-in took more than 10 minutes. Start again.");
});

it("sends a cancelled sign-in back to the sign-in page", async () => {
  const landed = await signInThroughProvider(new HttpBrowser(), start(), {
    login: "alice-sub",
    dashboardUrl: DASHBOARD,
    cancel: true,
  });
  expect(refusalOf(landed)).toBe("Sign-in was cancelled or refused at the identity provider.");
});

it("never signs a provider account in as an existing user it is not linked to", async () => {
  const landed = await signInThroughProvider(new HttpBrowser(), start(), {
    login: "mallory-sub",
    dashboardUrl: DASHBOARD,
  });
  expect(refusalOf(landed)).toMatch(/A Sluice user named "admin" exists already and is not linked/);
  const { auditEvents } = dataOf(
    await t.gql(
      `{ auditEvents(first: 1, principal: "user/admin", operation: "oidcSignIn") { nodes { outcome } } }`,
    ),
  );
  expect(auditEvents.nodes).toEqual([]);
});

it("only same-site paths are followed after signing in", async () => {
  for (const next of ["https://evil.example/", "//evil.example/x", "/\\evil.example"]) {
    const { next: landedNext } = sessionOf(
      await signInThroughProvider(new HttpBrowser(), start(next), {
        login: "alice-sub",
        dashboardUrl: DASHBOARD,
      }),
    );
    expect(landedNext).toBe("/");
  }
});

it("the session token stops working when it expires", async () => {
  expect(
    dataOf(await t.gql(`{ whoAmI { principal } }`, undefined, { token: aliceToken })).whoAmI.principal,
  ).toBe("user/alice");
  const refusedAt = await eventually(
    async () => {
      const response = await t.gql(`{ whoAmI { principal } }`, undefined, { token: aliceToken });
      return response.errors?.[0]?.extensions?.code === "UNAUTHENTICATED" ? Date.now() : undefined;
    },
    (SESSION_SECONDS + 15) * 1000,
    "the session token to expire",
  );
  expect(refusedAt).toBeGreaterThanOrEqual(aliceExpiresAt);
});
