/**
 * The secret store on a real server and PostgreSQL: putSecret / secrets / deleteSecret with their
 * permissions (ReadOnly sees names, never values; only ManageSecrets changes the store), values
 * stored as envelopes and never returned nor audited, `{{resolve:secret:NAME}}` references checked
 * when a pipeline is saved (unknown name → document error with its path; no
 * sluice:GetSecretValue → FORBIDDEN with its path, on every save), and the installation's
 * formerly clear secrets (webhook secrets, notification target credentials, the lease key)
 * encrypted at rest, encrypted once more when an older server left them in clear, and re-wrapped
 * with the store's values by a master key rotation.
 */
import crypto from "node:crypto";
import os from "node:os";
import { encryptInstallationSecrets, leaseKeyOf } from "../../src/persistence/installation-secrets";
import { MasterKeyring, SecretVault, masterKeyId } from "../../src/persistence/secret-vault";
import { simplePipeline } from "../support/documents";
import { dataOf, startTestServer, type GraphQLResponse, type TestServer } from "../support/server";

const K1 = crypto.randomBytes(32).toString("base64");
const K2 = crypto.randomBytes(32).toString("base64");
const V1 = `first-${crypto.randomBytes(8).toString("hex")}`;
const V2 = `second-${crypto.randomBytes(8).toString("hex")}`;
const TARGET_SECRET = `target-hmac-${crypto.randomBytes(8).toString("hex")}`;
const HEADER_TOKEN = `Bearer hdr-${crypto.randomBytes(8).toString("hex")}`;

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: { SLUICE_MASTER_KEY: K1 } });
});
afterAll(async () => {
  await t?.stop();
});

const PUT = `mutation ($n: String!, $v: String!, $d: String) {
  putSecret(name: $n, value: $v, description: $d) { name description version createdBy updatedBy createdAt updatedAt } }`;
const LIST = `{ secrets { name description version createdBy updatedBy } }`;
const DELETE = `mutation ($n: String!) { deleteSecret(name: $n) }`;
const CREATE = `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name version } }`;
const UPDATE = `mutation ($input: PipelineInput!, $v: Int!) { updatePipeline(input: $input, expectedVersion: $v) { version } }`;

const codeOf = (response: GraphQLResponse) => response.errors?.[0]?.extensions?.code;
const pathsOf = (response: GraphQLResponse) =>
  (response.errors?.[0]?.extensions?.validationErrors ?? []).map((e: { path: string }) => e.path);

/** A pipeline whose build references `commands` (a Shell action's Commands). */
const referencing = (name: string, commands: string) => {
  const document = simplePipeline(name);
  document.stages[1].actions[0].configuration = { Commands: commands };
  return document;
};

async function userWithToken(name: string, policies: string[]): Promise<string> {
  dataOf(await t.gql(`mutation ($n: String!) { createUser(name: $n) { name } }`, { n: name }));
  for (const policy of policies)
    dataOf(
      await t.gql(`mutation ($p: String!, $u: String!) { attachPolicy(policyName: $p, principal: $u) }`, {
        p: policy,
        u: `user/${name}`,
      }),
    );
  return dataOf(
    await t.gql(`mutation ($u: String!) { createApiToken(principal: $u, description: "tests") { secret } }`, {
      u: `user/${name}`,
    }),
  ).createApiToken.secret;
}

async function dumpOf(sql: string): Promise<string> {
  return JSON.stringify(await t.server.db.query(sql));
}

it("stores versions as envelopes, lists names and metadata, and never returns or audits a value", async () => {
  const first = dataOf(await t.gql(PUT, { n: "db-password", v: V1, d: "the production database" }));
  expect(first.putSecret).toMatchObject({
    name: "db-password",
    description: "the production database",
    version: 1,
    createdBy: "user/admin",
    updatedBy: "user/admin",
  });
  // A new version; a null description keeps the stored one.
  const second = dataOf(await t.gql(PUT, { n: "db-password", v: V2 }));
  expect(second.putSecret).toMatchObject({ version: 2, description: "the production database" });
  dataOf(await t.gql(PUT, { n: "deploy-key", v: "k".repeat(40), d: null }));

  expect(dataOf(await t.gql(LIST)).secrets).toEqual([
    {
      name: "db-password",
      description: "the production database",
      version: 2,
      createdBy: "user/admin",
      updatedBy: "user/admin",
    },
    { name: "deploy-key", description: null, version: 1, createdBy: "user/admin", updatedBy: "user/admin" },
  ]);
  // No field of the schema can hold a value: the Secret type has none.
  const type = dataOf(await t.gql(`{ __type(name: "Secret") { fields { name } } }`)).__type;
  expect(type.fields.map((f: { name: string }) => f.name)).not.toContain("value");

  // At rest: envelopes, each secret under a data key of its own, wrapped by the master key.
  const versions: Array<{ name: string; version: number; value: string }> = await t.server.db.query(
    `SELECT name, version, value FROM stored_secret_versions ORDER BY name, version`,
  );
  expect(versions.map((v) => [v.name, v.version])).toEqual([
    ["db-password", 1],
    ["db-password", 2],
    ["deploy-key", 1],
  ]);
  for (const v of versions) expect(v.value).toMatch(/^sluice:enc:v1:/);
  const everything = await dumpOf(
    `SELECT (SELECT json_agg(s) FROM stored_secrets s) AS s, (SELECT json_agg(v) FROM stored_secret_versions v) AS v,
            (SELECT json_agg(a) FROM audit_events a) AS a`,
  );
  expect(everything).not.toContain(V1);
  expect(everything).not.toContain(V2);
  const audit = dataOf(
    await t.gql(`{ auditEvents(operation: "putSecret", first: 5) { nodes { arguments outcome } } }`),
  ).auditEvents.nodes;
  expect(audit).toHaveLength(3);
  expect(audit[0]).toEqual({
    arguments: { name: "deploy-key", value: "****", description: null },
    outcome: "ok",
  });
  for (const node of audit) expect(node.arguments.value).toBe("****");
});

it("refuses bad names and values with their field, changing nothing", async () => {
  const bad = await t.gql(PUT, { n: "has space", v: "" });
  expect(codeOf(bad)).toBe("BAD_USER_INPUT");
  expect(pathsOf(bad)).toEqual(["name", "value"]);
  // A name that cannot be part of an SRN is refused by the checker already.
  expect(codeOf(await t.gql(PUT, { n: "no/slash", v: "x" }))).toBe("BAD_USER_INPUT");
  const missing = await t.gql(DELETE, { n: "never-made" });
  expect(codeOf(missing)).toBe("NOT_FOUND");
  expect(dataOf(await t.gql(LIST)).secrets.map((s: { name: string }) => s.name)).toEqual([
    "db-password",
    "deploy-key",
  ]);
});

it("lets ReadOnly list the names only, and refuses it every change", async () => {
  const reader = await userWithToken("reader", ["ReadOnly"]);
  expect(dataOf(await t.gql(LIST, undefined, { token: reader })).secrets.map((s: any) => s.name)).toEqual([
    "db-password",
    "deploy-key",
  ]);
  expect(codeOf(await t.gql(PUT, { n: "db-password", v: "x" }, { token: reader }))).toBe("FORBIDDEN");
  expect(codeOf(await t.gql(DELETE, { n: "db-password" }, { token: reader }))).toBe("FORBIDDEN");
  // Nobody without ListSecrets sees the list at all.
  const nobody = await userWithToken("nobody", []);
  expect(codeOf(await t.gql(LIST, undefined, { token: nobody }))).toBe("FORBIDDEN");
  expect(dataOf(await t.gql(LIST)).secrets.find((s: any) => s.name === "db-password").version).toBe(2);
});

it("checks every reference when a pipeline is saved: allowed, existing, well formed", async () => {
  // PipelineAdmin edits pipelines but holds no secret's value.
  const editor = await userWithToken("editor", ["PipelineAdmin"]);
  const refused = await t.gql(
    CREATE,
    { input: referencing("uses-db", "deploy --password {{resolve:secret:db-password}}") },
    { token: editor },
  );
  expect(codeOf(refused)).toBe("FORBIDDEN");
  expect(pathsOf(refused)).toEqual(["stages[1].actions[0].configuration.Commands"]);
  expect(refused.errors?.[0]?.message).toContain("sluice:GetSecretValue");
  expect(refused.errors?.[0]?.message).toContain("srn:sluice:default:secret/db-password");
  // Refused the same way for a name that does not exist: existence does not leak.
  const unseen = await t.gql(
    CREATE,
    { input: referencing("uses-db", "deploy {{resolve:secret:no-such-secret}}") },
    { token: editor },
  );
  expect(codeOf(unseen)).toBe("FORBIDDEN");
  expect(dataOf(await t.gql(`{ pipeline(name: "uses-db") { name } }`)).pipeline).toBeNull();

  // Allowed the values of db-* secrets: db-password passes, db-missing is unknown, deploy-key is not allowed.
  dataOf(
    await t.gql(`mutation ($n: String!, $d: JSONObject!) { putPolicy(name: $n, document: $d) { name } }`, {
      n: "db-secrets",
      d: {
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: ["sluice:GetSecretValue"], Resource: ["srn:sluice:*:secret/db-*"] },
        ],
      },
    }),
  );
  const deployer = await userWithToken("deployer", ["PipelineAdmin", "db-secrets"]);
  const unknown = await t.gql(
    CREATE,
    { input: referencing("uses-db", "deploy {{resolve:secret:db-missing}}") },
    { token: deployer },
  );
  expect(codeOf(unknown)).toBe("BAD_USER_INPUT");
  expect(pathsOf(unknown)).toEqual(["stages[1].actions[0].configuration.Commands"]);
  const other = await t.gql(
    CREATE,
    { input: referencing("uses-db", "deploy {{resolve:secret:deploy-key}}") },
    { token: deployer },
  );
  expect(codeOf(other)).toBe("FORBIDDEN");
  const malformed = await t.gql(
    CREATE,
    { input: referencing("uses-db", "deploy {{resolve:secret:bad name}}") },
    { token: deployer },
  );
  expect(codeOf(malformed)).toBe("BAD_USER_INPUT");
  expect(pathsOf(malformed)).toEqual(["stages[1].actions[0].configuration.Commands"]);

  const created = await t.gql(
    CREATE,
    { input: referencing("uses-db", "deploy --password {{resolve:secret:db-password}}") },
    { token: deployer },
  );
  expect(dataOf(created).createPipeline).toEqual({ name: "uses-db", version: 1 });
  // The document keeps the reference, never the value.
  const stored = await dumpOf(`SELECT document FROM pipelines WHERE name = 'uses-db'`);
  expect(stored).toContain("{{resolve:secret:db-password}}");
  expect(stored).not.toContain(V2);

  // Every save checks again: the editor cannot save the pipeline even unchanged around the reference.
  const edit = await t.gql(
    UPDATE,
    { input: referencing("uses-db", "deploy --password {{resolve:secret:db-password}} --verbose"), v: 1 },
    { token: editor },
  );
  expect(codeOf(edit)).toBe("FORBIDDEN");
  expect(pathsOf(edit)).toEqual(["stages[1].actions[0].configuration.Commands"]);
});

it("deletes a secret with its data key; a save that references it then names the field", async () => {
  const [{ dataKeyId }] = await t.server.db.query(
    `SELECT data_key_id AS "dataKeyId" FROM stored_secrets WHERE name = 'deploy-key'`,
  );
  expect(dataOf(await t.gql(DELETE, { n: "deploy-key" })).deleteSecret).toBe(true);
  expect(dataOf(await t.gql(LIST)).secrets.map((s: any) => s.name)).toEqual(["db-password"]);
  expect(await t.server.db.query(`SELECT 1 FROM secret_data_keys WHERE id = $1`, [dataKeyId])).toEqual([]);
  expect(await t.server.db.query(`SELECT 1 FROM stored_secret_versions WHERE name = 'deploy-key'`)).toEqual(
    [],
  );
  const gone = await t.gql(UPDATE, {
    input: referencing("uses-db", "x {{resolve:secret:deploy-key}}"),
    v: 1,
  });
  expect(codeOf(gone)).toBe("BAD_USER_INPUT");
  expect(pathsOf(gone)).toEqual(["stages[1].actions[0].configuration.Commands"]);
});

it("keeps webhook secrets, notification target credentials and the lease key encrypted at rest", async () => {
  dataOf(await t.gql(CREATE, { input: simplePipeline("hooked") }));
  const { createPipelineWebhook } = dataOf(
    await t.gql(`mutation { createPipelineWebhook(pipelineName: "hooked") { secret } }`),
  );
  const target = dataOf(
    await t.gql(
      `mutation ($target: NotificationTargetInput!) { createNotificationTarget(target: $target) { id url secret headers { name value } } }`,
      {
        target: {
          name: "ops-hook",
          kind: "WEBHOOK",
          url: "https://hooks.example.com/sluice",
          secret: TARGET_SECRET,
          headers: [{ name: "Authorization", value: HEADER_TOKEN }],
        },
      },
    ),
  ).createNotificationTarget;
  expect(target).toMatchObject({ secret: "****", headers: [{ name: "Authorization", value: "****" }] });
  expect(target.url).toBe("https://hooks.example.com/sluice");

  const [hook] = await t.server.db.query(`SELECT secret FROM pipeline_webhooks`);
  expect(hook.secret).toMatch(/^sluice:enc:v1:/);
  const [row] = await t.server.db.query(`SELECT settings FROM notification_targets WHERE name = 'ops-hook'`);
  expect(row.settings.secret).toMatch(/^sluice:enc:v1:/);
  expect(row.settings.url).toMatch(/^sluice:enc:v1:/);
  expect(row.settings.headers[0]).toMatchObject({
    name: "Authorization",
    value: expect.stringMatching(/^sluice:enc:v1:/),
  });
  const [installation] = await t.server.db.query(`SELECT lease_key AS key FROM installation`);
  expect(installation.key).toMatch(/^sluice:enc:v1:/);
  const all = await dumpOf(
    `SELECT (SELECT json_agg(w) FROM pipeline_webhooks w) AS w, (SELECT json_agg(n) FROM notification_targets n) AS n`,
  );
  for (const value of [createPipelineWebhook.secret, TARGET_SECRET, HEADER_TOKEN])
    expect(all).not.toContain(value);

  // An update sent with the masks keeps the stored values (opened, then sealed again).
  dataOf(
    await t.gql(
      `mutation ($id: ID!, $target: NotificationTargetInput!) { updateNotificationTarget(id: $id, target: $target) { id } }`,
      {
        id: target.id,
        target: {
          name: "ops-hook",
          kind: "WEBHOOK",
          url: "https://hooks.example.com/sluice",
          secret: "****",
          headers: [{ name: "Authorization", value: "****" }],
        },
      },
    ),
  );
  const vault = new SecretVault(t.server.db, new MasterKeyring({ keys: K1, dataDir: os.tmpdir() }));
  const [updated] = await t.server.db.query(
    `SELECT settings FROM notification_targets WHERE name = 'ops-hook'`,
  );
  expect(await vault.decrypt(updated.settings.secret)).toBe(TARGET_SECRET);
  expect(await vault.decrypt(updated.settings.headers[0].value)).toBe(HEADER_TOKEN);
});

it("encrypts what an older server left in clear, at the next start, and reads it the same", async () => {
  const vault = new SecretVault(t.server.db, new MasterKeyring({ keys: K1, dataDir: os.tmpdir() }));
  const leaseKey = await leaseKeyOf(t.server.db, vault);
  expect(leaseKey).toMatch(/^[0-9a-f]{64}$/);
  const hookSecret = `clear-hook-${crypto.randomBytes(6).toString("hex")}`;
  // As an installation from before kept them: in clear.
  await t.server.db.query(`UPDATE installation SET lease_key = $1`, [leaseKey]);
  await t.server.db.query(`UPDATE pipeline_webhooks SET secret = $1`, [hookSecret]);
  await t.server.db.query(
    `UPDATE notification_targets SET settings = jsonb_set(jsonb_set(settings, '{secret}', to_jsonb($1::text)), '{url}', to_jsonb($2::text))
      WHERE name = 'ops-hook'`,
    [TARGET_SECRET, "https://hooks.example.com/sluice"],
  );
  // Read as they are meanwhile.
  expect(await leaseKeyOf(t.server.db, vault)).toBe(leaseKey);

  expect(await encryptInstallationSecrets(t.server.db, vault)).toBe(3);
  expect(await encryptInstallationSecrets(t.server.db, vault)).toBe(0);
  const all = await dumpOf(
    `SELECT (SELECT json_agg(w) FROM pipeline_webhooks w) AS w, (SELECT json_agg(n) FROM notification_targets n) AS n,
            (SELECT json_agg(i) FROM installation i) AS i`,
  );
  for (const value of [leaseKey, hookSecret, TARGET_SECRET]) expect(all).not.toContain(value);
  expect(await leaseKeyOf(t.server.db, vault)).toBe(leaseKey);
  const [hook] = await t.server.db.query(`SELECT secret FROM pipeline_webhooks`);
  expect(await vault.decrypt(hook.secret)).toBe(hookSecret);
});

it("refuses to start a server copy without the installation's master key, saying which", async () => {
  const stray = crypto.randomBytes(32).toString("base64");
  await expect(
    startTestServer({
      env: { DATABASE_URL: t.database!.url, SLUICE_NATS_PREFIX: t.natsPrefix, SLUICE_MASTER_KEY: stray },
    }),
  ).rejects.toThrow(/lease key: the master key [0-9a-f]{16} .* is not configured\. Every server copy/);
});

it("re-wraps the store's values and the installation's secrets with every other data key", async () => {
  const both = new SecretVault(t.server.db, new MasterKeyring({ keys: `${K2},${K1}`, dataDir: os.tmpdir() }));
  const result = await both.rotate();
  expect(result.masterKeyId).toBe(masterKeyId(Buffer.from(K2, "base64")));
  const keys: Array<{ scope: string | null; master: string }> = await t.server.db.query(
    `SELECT scope, master_key_id AS master FROM secret_data_keys`,
  );
  expect(keys.some((k) => k.scope === "installation")).toBe(true);
  expect(new Set(keys.map((k) => k.master))).toEqual(new Set([result.masterKeyId]));
  expect(result.rewrapped).toBe(keys.length);

  // The new key alone opens the store's latest value and each formerly clear secret; the old one nothing.
  const fresh = new SecretVault(t.server.db, new MasterKeyring({ keys: K2, dataDir: os.tmpdir() }));
  const old = new SecretVault(t.server.db, new MasterKeyring({ keys: K1, dataDir: os.tmpdir() }));
  const [latest] = await t.server.db.query(
    `SELECT v.value FROM stored_secret_versions v JOIN stored_secrets s ON s.name = v.name AND s.latest_version = v.version
      WHERE s.name = 'db-password'`,
  );
  expect(await fresh.decrypt(latest.value)).toBe(V2);
  await expect(old.decrypt(latest.value)).rejects.toThrow(/master key .* is not configured/);
  const [hook] = await t.server.db.query(`SELECT secret FROM pipeline_webhooks`);
  await expect(fresh.decrypt(hook.secret)).resolves.toMatch(/^clear-hook-/);
  await expect(old.decrypt(hook.secret)).rejects.toThrow(/not configured/);
  expect(await leaseKeyOf(t.server.db, fresh)).toMatch(/^[0-9a-f]{64}$/);
});
