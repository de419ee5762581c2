/**
 * Envelope encryption at rest (persistence/secret-vault.ts) on PostgreSQL, with master keys from
 * SLUICE_MASTER_KEY: stored documents hold envelopes; an envelope cannot be smuggled into a
 * document; the values an older installation stored in clear are encrypted once at start; a
 * rotation re-wraps the data keys under the new key while both are configured; and only a
 * principal allowed sluice:ManageInstallation may rotate.
 */
import crypto from "node:crypto";
import os from "node:os";
import { createRegistry } from "../../src/domain/action-types/builtins";
import { ConfigError, loadConfig } from "../../src/config";
import { MasterKeyring, SecretVault, masterKeyId } from "../../src/persistence/secret-vault";
import { dataOf, startTestServer, type TestServer } from "../support/server";

const K1 = crypto.randomBytes(32).toString("base64");
const K2 = crypto.randomBytes(32).toString("base64");
const METRICS_TOKEN = "metrics-only-token-0123456789";
const HOOK_SECRET = "hmac-key-for-the-hook-8a1f";

const WEBHOOK = { category: "Invoke", owner: "Sluice", provider: "Webhook", version: "1" };
const document = (name: string, secret: string, url = "https://hooks.example/x") => ({
  name,
  stages: [
    {
      name: "Source",
      actions: [
        {
          name: "Checkout",
          actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
          configuration: { Repository: "https://git.example/repo.git", Branch: "main" },
          outputArtifacts: [{ name: "Src" }],
        },
      ],
    },
    {
      name: "Notify",
      actions: [{ name: "Hook", actionTypeId: WEBHOOK, configuration: { Url: url, Secret: secret } }],
    },
  ],
});

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ env: { SLUICE_MASTER_KEY: K1, SLUICE_METRICS_TOKEN: METRICS_TOKEN } });
});
afterAll(async () => {
  await t.stop();
});

const CREATE = `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name version } }`;
const UPDATE = `mutation ($input: PipelineInput!, $v: Int!) { updatePipeline(input: $input, expectedVersion: $v) { version } }`;

async function storedSecret(name: string): Promise<string> {
  const rows = await t.server.db.query(
    `SELECT document->'stages'->1->'actions'->0->'configuration'->>'Secret' AS secret FROM pipelines WHERE name = $1`,
    [name],
  );
  return rows[0].secret;
}

it("stores envelopes in the pipeline and its versions, and reuses them for an unchanged value", async () => {
  dataOf(await t.gql(CREATE, { input: document("vaulted", HOOK_SECRET) }));
  const envelope = await storedSecret("vaulted");
  expect(envelope).toMatch(/^sluice:enc:v1:/);
  const dump = JSON.stringify(
    await t.server.db.query(
      `SELECT p.document, v.document AS v FROM pipelines p JOIN pipeline_versions v ON v.pipeline_id = p.id`,
    ),
  );
  expect(dump).not.toContain(HOOK_SECRET);
  // The pipeline's data key (the installation's own, scope `installation`, was made at start).
  const keys = await t.server.db.query(
    `SELECT master_key_id AS id, wrapped FROM secret_data_keys WHERE scope IS NULL`,
  );
  expect(keys).toHaveLength(1);
  expect(keys[0].id).toBe(masterKeyId(Buffer.from(K1, "base64")));

  // The same clear value again: same envelope, no new version.
  const same = dataOf(await t.gql(UPDATE, { input: document("vaulted", HOOK_SECRET), v: 1 }));
  expect(same.updatePipeline.version).toBe(1);
  // A new value: a new envelope under the pipeline's same data key.
  const changed = dataOf(await t.gql(UPDATE, { input: document("vaulted", `${HOOK_SECRET}-2`), v: 1 }));
  expect(changed.updatePipeline.version).toBe(2);
  const second = await storedSecret("vaulted");
  expect(second).not.toBe(envelope);
  expect(second.split(".")[0]).toBe(envelope.split(".")[0]);
});

it("refuses an envelope copied into another pipeline or into a property that is not secret", async () => {
  const envelope = await storedSecret("vaulted");
  const copied = await t.gql(CREATE, { input: document("thief", envelope) });
  expect(copied.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(JSON.stringify(copied.errors)).toContain("stages[1].actions[0].configuration.Secret");
  expect(dataOf(await t.gql(`{ pipeline(name: "thief") { name } }`)).pipeline).toBeNull();

  const inUrl = await t.gql(UPDATE, { input: document("vaulted", "****", envelope), v: 2 });
  expect(inUrl.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect(JSON.stringify(inUrl.errors)).toContain("stages[1].actions[0].configuration.Url");
  expect(await storedSecret("vaulted")).toBe(envelope);
});

it("encrypts the values an older installation stored in clear, once", async () => {
  dataOf(await t.gql(CREATE, { input: document("legacy", "placeholder-value") }));
  // As an installation from before encryption at rest kept it: the value in clear, everywhere.
  await t.server.db.query(
    `UPDATE pipelines SET document = json_build_object('name', name, 'stages', $2::json) WHERE name = $1`,
    ["legacy", JSON.stringify(document("legacy", HOOK_SECRET).stages)],
  );
  await t.server.db.query(
    `UPDATE pipeline_versions v SET document = p.document FROM pipelines p WHERE p.id = v.pipeline_id AND p.name = 'legacy'`,
  );
  await t.server.db.query(`DELETE FROM data_migrations`);
  expect(await storedSecret("legacy")).toBe(HOOK_SECRET);

  const vault = new SecretVault(t.server.db, new MasterKeyring({ keys: K1, dataDir: os.tmpdir() }));
  expect(await vault.encryptExisting(createRegistry([]))).toBe(2);
  const envelope = await storedSecret("legacy");
  expect(envelope).toMatch(/^sluice:enc:v1:/);
  expect(await vault.decrypt(envelope)).toBe(HOOK_SECRET);
  const all = JSON.stringify(await t.server.db.query(`SELECT document FROM pipeline_versions`));
  expect(all).not.toContain(HOOK_SECRET);
  // Once: the mark is set, a second start does nothing.
  expect(await vault.encryptExisting(createRegistry([]))).toBe(0);
});

it("lets only a principal allowed sluice:ManageInstallation rotate", async () => {
  const refused = await t.gql(`mutation { rotateMasterKey { masterKeyId } }`, undefined, {
    token: METRICS_TOKEN,
  });
  expect(refused.errors?.[0]?.extensions?.code).toMatch(/FORBIDDEN|UNAUTHENTICATED/);
  const ids = await t.server.db.query(`SELECT DISTINCT master_key_id AS id FROM secret_data_keys`);
  expect(ids).toEqual([{ id: masterKeyId(Buffer.from(K1, "base64")) }]);
});

it("re-wraps every data key under the new master key while both are configured", async () => {
  const envelope = await storedSecret("vaulted");
  const both = new SecretVault(t.server.db, new MasterKeyring({ keys: `${K2},${K1}`, dataDir: os.tmpdir() }));
  const result = await both.rotate();
  expect(result.masterKeyId).toBe(masterKeyId(Buffer.from(K2, "base64")));
  expect(result.rewrapped).toBeGreaterThanOrEqual(2);
  expect(await both.wrappedBy()).toEqual({ [result.masterKeyId]: result.rewrapped });

  // The old key alone opens nothing now; the new one alone does.
  const old = new SecretVault(t.server.db, new MasterKeyring({ keys: K1, dataDir: os.tmpdir() }));
  await expect(old.decrypt(envelope)).rejects.toThrow(/master key .* is not configured/);
  const fresh = new SecretVault(t.server.db, new MasterKeyring({ keys: K2, dataDir: os.tmpdir() }));
  expect(await fresh.decrypt(envelope)).toBe(`${HOOK_SECRET}-2`);
  // The running server (K1 only) keeps working on the data keys it holds already: no downtime.
  const again = dataOf(await t.gql(UPDATE, { input: document("vaulted", "****"), v: 2 }));
  expect(again.updatePipeline.version).toBe(2);
});

it("never shows a bad master key in the configuration error", () => {
  const bad = "not-a-key-but-secret-looking-text";
  try {
    loadConfig({ SLUICE_MASTER_KEY: bad });
    throw new Error("accepted");
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain("SLUICE_MASTER_KEY=(hidden)");
    expect(String(error)).not.toContain(bad);
  }
});
