/**
 * Password sign-in (issue #10) on a real server, PostgreSQL and NATS: an administrator sets a
 * password (argon2id, a strength rule), signIn issues a session token (an API token that expires
 * after SLUICE_SESSION_TTL), wrong passwords and unknown users get the same answer, repeated
 * failures lock a name out with a doubling backoff kept in PostgreSQL, signOut revokes the session
 * (its live connections close), users change their own password. Every attempt is audited; no
 * password is ever stored, logged or echoed.
 */
import { createClient } from "graphql-ws";
import { Client as PgClient } from "pg";
import WebSocket from "ws";
import { dataOf, startTestServer, type GraphQLResponse, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

jest.setTimeout(120_000);

const logLines: string[] = [];
let t: TestServer;
let db: PgClient;
beforeAll(async () => {
  t = await startTestServer({ logLines });
  db = new PgClient({ connectionString: t.database!.url });
  await db.connect();
});
afterAll(async () => {
  await db?.end();
  await t?.stop();
});

/** Every password a test uses: none may be found in the database, the logs or an answer. */
const used = new Set<string>();
const pw = (value: string) => (used.add(value), value);

const SIGN_IN = `mutation SignIn($n: String!, $p: String!) { signIn(name: $n, password: $p) { token expiresAt principal } }`;
const SET = `mutation SetUserPassword($u: String!, $p: String!) { setUserPassword(userName: $u, password: $p) }`;
const WHO = `{ whoAmI { principal } }`;
const codeOf = (r: GraphQLResponse) => r.errors?.[0]?.extensions?.code;
const messageOf = (r: GraphQLResponse) => r.errors?.[0]?.message ?? "";

async function createUser(name: string, password?: string): Promise<void> {
  dataOf(await t.gql(`mutation ($n: String!) { createUser(name: $n) { name } }`, { n: name }));
  if (password)
    expect(dataOf(await t.gql(SET, { u: name, p: pw(password) }))).toEqual({ setUserPassword: true });
}

const signIn = (name: string, password: string) =>
  t.gql(SIGN_IN, { n: name, p: pw(password) }, { token: null });

async function lockRow(name: string): Promise<{ failures: number; lockedForMs: number | null } | null> {
  const { rows } = await db.query(
    `SELECT failures, extract(epoch FROM locked_until - now()) * 1000 AS ms FROM sign_in_failures WHERE name = $1`,
    [name],
  );
  return rows[0]
    ? { failures: rows[0].failures, lockedForMs: rows[0].ms === null ? null : Number(rows[0].ms) }
    : null;
}

/** The lock ran out: what waiting 30 s would do, without waiting. */
const expireLock = (name: string) =>
  db.query(`UPDATE sign_in_failures SET locked_until = now() - interval '1 second' WHERE name = $1`, [name]);

describe("setting a password", () => {
  it("refuses a weak password with a clear error that does not quote it, and changes nothing", async () => {
    await createUser("wendy");
    for (const [weak, why] of [
      ["short-1", /too short/],
      ["aaaaaaaaaaaaaaaaaaaa", /too few/],
      ["my-name-is-wendy-ok", /user name/],
    ] as const) {
      const response = await t.gql(SET, { u: "wendy", p: pw(weak) });
      expect(codeOf(response)).toBe("BAD_USER_INPUT");
      expect(messageOf(response)).toMatch(why);
      expect(messageOf(response)).toMatch(/12 to 256 characters/);
      expect(messageOf(response)).not.toContain(weak);
      expect(response.errors![0]!.extensions!.validationErrors[0].path).toBe("password");
    }
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM identity_passwords p JOIN identity_users u ON u.id = p.user_id WHERE u.name = 'wendy'`,
    );
    expect(rows[0].n).toBe(0);
    // No password: signing in is refused like a wrong password.
    const response = await signIn("wendy", "short-1");
    expect([codeOf(response), messageOf(response)]).toEqual([
      "UNAUTHENTICATED",
      "Wrong user name or password.",
    ]);
  });

  it("answers NOT_FOUND for an unknown user, and needs sluice:ManageIdentity", async () => {
    expect(codeOf(await t.gql(SET, { u: "nobody", p: pw("a perfectly fine one") }))).toBe("NOT_FOUND");
    await createUser("rick", "kcir key: password 1");
    const { token } = dataOf(await signIn("rick", "kcir key: password 1")).signIn;
    const refused = await t.gql(SET, { u: "wendy", p: pw("another fine password") }, { token });
    expect(codeOf(refused)).toBe("FORBIDDEN");
    expect(messageOf(refused)).toContain("sluice:ManageIdentity");
  });

  it("stores an argon2id hash, never the password", async () => {
    await createUser("hana", "correct horse battery");
    const { rows } = await db.query(
      `SELECT p.password_hash FROM identity_passwords p JOIN identity_users u ON u.id = p.user_id WHERE u.name = 'hana'`,
    );
    expect(rows[0].password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(rows[0].password_hash).not.toContain("correct horse battery");
  });
});

describe("signIn", () => {
  it("gives a session token that works, expires after SLUICE_SESSION_TTL (12 h) and is listed as a session", async () => {
    await createUser("sara", "aras key: long password");
    const before = Date.now();
    const session = dataOf(await signIn("sara", "aras key: long password")).signIn;
    expect(session.token).toMatch(/^slc_[A-Za-z0-9_-]{40,}$/);
    expect(session.principal).toBe("user/sara");
    const ttl = new Date(session.expiresAt).getTime() - before;
    expect(ttl).toBeGreaterThan(12 * 3600_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(12 * 3600_000 + 60_000);
    expect(dataOf(await t.gql(WHO, {}, { token: session.token })).whoAmI.principal).toBe("user/sara");
    const tokens = dataOf(
      await t.gql(`{ apiTokens(principal: "user/sara") { description expiresAt revokedAt } }`),
    ).apiTokens;
    expect(tokens).toEqual([
      { description: "dashboard session (password sign-in)", expiresAt: session.expiresAt, revokedAt: null },
    ]);
  });

  it("refuses a wrong password, an unknown user and a user without password alike", async () => {
    await createUser("walt", "tlaw key: real password");
    await createUser("nopass");
    const answers = [
      await signIn("walt", "not tlaw key: password"),
      await signIn("ghost-user", "whatever it is 123"),
      await signIn("nopass", "whatever it is 123"),
      await signIn("bad name/with slash", "whatever it is 123"),
    ];
    for (const response of answers) {
      expect(response.data).toBeNull();
      expect(response.errors).toEqual([
        expect.objectContaining({
          message: "Wrong user name or password.",
          extensions: { code: "UNAUTHENTICATED" },
        }),
      ]);
    }
  });

  it("takes about as long for an unknown user as for a wrong password (a dummy hash is checked)", async () => {
    await createUser("tim", "mit key: real password");
    const timed = async (name: string) => {
      const start = process.hrtime.bigint();
      expect(codeOf(await signIn(name, "a wrong password!"))).toBe("UNAUTHENTICATED");
      return Number(process.hrtime.bigint() - start) / 1e6;
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 4; i++) {
      known.push(await timed("tim"));
      unknown.push(await timed(`nobody-${i}`));
    }
    // argon2id with m=19 MiB takes milliseconds: skipping it for unknown names would show.
    expect(median(unknown)).toBeGreaterThan(median(known) * 0.3);
  });
});

describe("lockout", () => {
  it("locks a name after 5 failures for 30 s, doubles on each failure after, and resets on success", async () => {
    await createUser("lou", "uol key: real password");
    for (let i = 1; i <= 4; i++) {
      const response = await signIn("lou", `wrong guess ${i}`);
      expect(messageOf(response)).toBe("Wrong user name or password.");
    }
    expect((await lockRow("lou"))?.lockedForMs).toBeNull();
    const fifth = await signIn("lou", "wrong guess 5");
    expect(codeOf(fifth)).toBe("UNAUTHENTICATED");
    expect(messageOf(fifth)).toMatch(
      /^Too many failed sign-ins for "lou": try again in 30 s \(after .+Z\)\.$/,
    );
    // Locked: even the right password is refused, with when to try again.
    const locked = await signIn("lou", "uol key: real password");
    expect(codeOf(locked)).toBe("UNAUTHENTICATED");
    expect(messageOf(locked)).toMatch(/try again in (29|30) s/);
    expect(Date.parse(locked.errors![0]!.extensions!.retryAfter)).toBeGreaterThan(Date.now() + 20_000);
    const row = await lockRow("lou");
    expect(row!.failures).toBe(5);
    expect(row!.lockedForMs).toBeGreaterThan(25_000);
    expect(row!.lockedForMs).toBeLessThanOrEqual(30_000);

    await expireLock("lou");
    expect(messageOf(await signIn("lou", "wrong guess 6"))).toMatch(/try again in 60 s/);
    await expireLock("lou");
    expect(messageOf(await signIn("lou", "wrong guess 7"))).toMatch(/try again in 2 min/);
    // Up to 15 minutes, no more.
    await db.query(`UPDATE sign_in_failures SET failures = 20 WHERE name = 'lou'`);
    await expireLock("lou");
    expect(messageOf(await signIn("lou", "wrong guess 8"))).toMatch(/try again in 15 min/);

    await expireLock("lou");
    dataOf(await signIn("lou", "uol key: real password"));
    expect(await lockRow("lou")).toBeNull();
    // Reset: four failures again before a lock.
    for (let i = 1; i <= 4; i++)
      expect(messageOf(await signIn("lou", `wrong again ${i}`))).toBe("Wrong user name or password.");
    expect(messageOf(await signIn("lou", "wrong again 5"))).toMatch(/try again in 30 s/);
  });

  it("locks an unknown name the same way: the answers do not tell whether a user exists", async () => {
    await createUser("real-one", "real eno key: password");
    const run = async (name: string) => {
      const messages: string[] = [];
      for (let i = 1; i <= 6; i++) messages.push(messageOf(await signIn(name, `guess number ${i}`)));
      return messages.map((m) => m.replace(`"${name}"`, '"<name>"').replace(/\(after .+Z\)/, "(after <t>)"));
    };
    const known = await run("real-one");
    const unknown = await run("not-a-user");
    expect(unknown).toEqual(known);
    expect(known[5]).toMatch(/try again in/);
  });

  it("is kept in PostgreSQL: another server copy on the same database sees the lock", async () => {
    await createUser("cara", "arac key: real password");
    for (let i = 1; i <= 5; i++) await signIn("cara", `wrong for cara ${i}`);
    const other = await startTestServer({ env: { DATABASE_URL: t.database!.url } });
    try {
      const response = await other.gql(SIGN_IN, { n: "cara", p: "arac key: real password" }, { token: null });
      expect(messageOf(response)).toMatch(/try again in/);
    } finally {
      await other.stop();
    }
  });
});

describe("signOut", () => {
  it("revokes the caller's session: the token stops working and its subscriptions close", async () => {
    await createUser("otto", "seventeen swans singing");
    const { token } = dataOf(await signIn("otto", "seventeen swans singing")).signIn;
    const client = createClient({
      url: t.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${token}` },
      retryAttempts: 0,
      lazy: false,
    });
    const closed = new Promise<number>((resolve) =>
      client.on("closed", (event) => resolve((event as { code: number }).code)),
    );
    await new Promise<void>((resolve) => client.on("connected", () => resolve()));
    expect(dataOf(await t.gql(`mutation { signOut }`, {}, { token }))).toEqual({ signOut: true });
    expect(await closed).toBe(4403);
    expect(codeOf(await t.gql(WHO, {}, { token }))).toBe("UNAUTHENTICATED");
    await client.dispose();
  });

  it("leaves an API token valid (false: nothing to revoke)", async () => {
    await createUser("api-user");
    const { secret } = dataOf(
      await t.gql(`mutation { createApiToken(principal: "user/api-user", description: "ci") { secret } }`),
    ).createApiToken;
    expect(dataOf(await t.gql(`mutation { signOut }`, {}, { token: secret }))).toEqual({ signOut: false });
    expect(dataOf(await t.gql(WHO, {}, { token: secret })).whoAmI.principal).toBe("user/api-user");
    expect(codeOf(await t.gql(`mutation { signOut }`, {}, { token: null }))).toBe("UNAUTHENTICATED");
  });
});

describe("changePassword", () => {
  it("needs the current password; the other sessions end, this one stays", async () => {
    await createUser("cleo", "oelc key: first password");
    const mine = dataOf(await signIn("cleo", "oelc key: first password")).signIn.token;
    const other = dataOf(await signIn("cleo", "oelc key: first password")).signIn.token;
    const CHANGE = `mutation ($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }`;
    const wrong = await t.gql(
      CHANGE,
      { c: pw("not the current one"), n: pw("oelc key: second password") },
      { token: mine },
    );
    expect(codeOf(wrong)).toBe("BAD_USER_INPUT");
    expect(wrong.errors![0]!.extensions!.validationErrors[0].path).toBe("currentPassword");
    const weak = await t.gql(CHANGE, { c: "oelc key: first password", n: pw("tiny-pw") }, { token: mine });
    expect(weak.errors![0]!.extensions!.validationErrors[0].path).toBe("newPassword");
    expect(
      dataOf(
        await t.gql(
          CHANGE,
          { c: "oelc key: first password", n: pw("oelc key: second password") },
          { token: mine },
        ),
      ),
    ).toEqual({ changePassword: true });
    expect(dataOf(await t.gql(WHO, {}, { token: mine })).whoAmI.principal).toBe("user/cleo");
    expect(codeOf(await t.gql(WHO, {}, { token: other }))).toBe("UNAUTHENTICATED");
    expect(messageOf(await signIn("cleo", "oelc key: first password"))).toBe("Wrong user name or password.");
    dataOf(await signIn("cleo", "oelc key: second password"));
  });

  it("an administrator's reset ends all of the user's sessions", async () => {
    await createUser("ivy", "yvi key: first password");
    const session = dataOf(await signIn("ivy", "yvi key: first password")).signIn.token;
    dataOf(await t.gql(SET, { u: "ivy", p: pw("yvi key: reset password") }));
    expect(codeOf(await t.gql(WHO, {}, { token: session }))).toBe("UNAUTHENTICATED");
    dataOf(await signIn("ivy", "yvi key: reset password"));
  });
});

describe("audit, storage and logs", () => {
  it("every sign-in, done or refused, is in the audit log with its password masked", async () => {
    await createUser("alma", "amla key: real password");
    dataOf(await signIn("alma", "amla key: real password"));
    await signIn("alma", "amla key: wrong password");
    const rows = dataOf(
      await t.gql(
        `{ auditEvents(first: 100, operation: "signIn") { nodes { principal arguments outcome error } } }`,
      ),
    ).auditEvents.nodes.filter((r: any) => r.arguments.name === "alma");
    expect(rows).toEqual([
      {
        principal: "anonymous",
        arguments: { name: "alma", password: "****" },
        outcome: "UNAUTHENTICATED",
        error: "Wrong user name or password.",
      },
      { principal: "anonymous", arguments: { name: "alma", password: "****" }, outcome: "ok", error: null },
    ]);
    const sets = dataOf(
      await t.gql(
        `{ auditEvents(first: 100, operation: "setUserPassword") { nodes { arguments outcome } } }`,
      ),
    ).auditEvents.nodes;
    expect(sets).toContainEqual({ arguments: { userName: "alma", password: "****" }, outcome: "ok" });
  });

  it("no password used in these tests is anywhere in the database, in clear", async () => {
    expect(used.size).toBeGreaterThan(20);
    const { rows: tables } = await db.query(
      `SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS t FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    expect(tables.length).toBeGreaterThan(10);
    for (const { t: table } of tables) {
      const { rows } = await db.query(`SELECT x::text AS row FROM ${table} x`);
      for (const password of used) {
        expect({ table, found: rows.some((r) => r.row.includes(password)) }).toEqual({ table, found: false });
      }
    }
  });

  it("no password is in the server's log", async () => {
    expect(logLines.length).toBeGreaterThan(10);
    expect(logLines.join("\n")).toMatch(/"operation":"SignIn"/);
    for (const password of used) expect(logLines.filter((line) => line.includes(password))).toEqual([]);
  });
});

describe("a short SLUICE_SESSION_TTL", () => {
  it("the session token stops working when it expires", async () => {
    const short = await startTestServer({ env: { SLUICE_SESSION_TTL: "2s" } });
    try {
      dataOf(await short.gql(`mutation { createUser(name: "eve") { name } }`));
      dataOf(await short.gql(SET, { u: "eve", p: "nine lanterns glowing" }));
      const session = dataOf(
        await short.gql(SIGN_IN, { n: "eve", p: "nine lanterns glowing" }, { token: null }),
      ).signIn;
      expect(new Date(session.expiresAt).getTime() - Date.now()).toBeLessThanOrEqual(2_000);
      expect(dataOf(await short.gql(WHO, {}, { token: session.token })).whoAmI.principal).toBe("user/eve");
      await eventually(
        async () => codeOf(await short.gql(WHO, {}, { token: session.token })) === "UNAUTHENTICATED",
        10_000,
        "the session to expire",
      );
      expect(Date.now()).toBeGreaterThanOrEqual(new Date(session.expiresAt).getTime());
    } finally {
      await short.stop();
    }
  });
});

describe("on embedded PGlite", () => {
  it("sets a password, signs in, and locks a name out the same way", async () => {
    const embedded = await startTestServer({ pglite: true });
    try {
      dataOf(await embedded.gql(`mutation { createUser(name: "gil") { name } }`));
      dataOf(await embedded.gql(SET, { u: "gil", p: "moss on the sluice gate" }));
      const session = dataOf(
        await embedded.gql(SIGN_IN, { n: "gil", p: "moss on the sluice gate" }, { token: null }),
      ).signIn;
      expect(dataOf(await embedded.gql(WHO, {}, { token: session.token })).whoAmI.principal).toBe("user/gil");
      const messages: string[] = [];
      for (let i = 1; i <= 5; i++) {
        messages.push(
          messageOf(await embedded.gql(SIGN_IN, { n: "gil", p: `wrong ${i} guess` }, { token: null })),
        );
      }
      expect(messages.slice(0, 4)).toEqual(Array(4).fill("Wrong user name or password."));
      expect(messages[4]).toMatch(/try again in 30 s/);
    } finally {
      await embedded.stop();
    }
    // A new PGlite runs every migration at its first start: slow on a busy machine.
  }, 120_000);
});
