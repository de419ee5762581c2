/**
 * The installation's own secrets, encrypted at rest with the secret values' vault
 * (docs/ARCHITECTURE.md, "Secrets"): each pipeline webhook's HMAC secret
 * (`pipeline_webhooks.secret`), the credential parts of notification targets (`settings.url`,
 * `settings.secret`, the values of `settings.headers`) and the lease key
 * (`installation.lease_key`). All are envelopes under the data key of scope `installation`, so
 * `sluice admin rotate-key` re-wraps them with the rest. They are written encrypted and opened in
 * memory where they are used (checking a push's signature, sending a notification, minting lease
 * tokens). Rows an older server wrote in clear are encrypted at every start
 * (encryptInstallationSecrets), and read as they are until then.
 */
import type { DataSource, EntityManager } from "typeorm";
import { isEnvelope } from "@sluice/protocol";
import type { TargetSettings } from "../domain/notifications/targets";
import type { SecretVault } from "./secret-vault";

/** The data key scope of these secrets. */
export const INSTALLATION_SCOPE = "installation";

async function mapSecrets(
  settings: TargetSettings,
  f: (value: string) => Promise<string>,
): Promise<TargetSettings> {
  const headers = settings.headers
    ? await Promise.all(settings.headers.map(async (h) => ({ name: h.name, value: await f(h.value) })))
    : settings.headers;
  return {
    ...settings,
    ...(settings.url ? { url: await f(settings.url) } : {}),
    ...(settings.secret ? { secret: await f(settings.secret) } : {}),
    ...(headers !== undefined ? { headers } : {}),
  };
}

/** A target's settings to store: its URL, secret and header values as envelopes. */
export function sealTargetSettings(
  vault: SecretVault,
  settings: TargetSettings,
  m?: EntityManager,
): Promise<TargetSettings> {
  return mapSecrets(settings, async (value) =>
    isEnvelope(value) ? value : vault.encryptScoped(value, INSTALLATION_SCOPE, m),
  );
}

/** A stored target's settings, opened in memory. */
export function openTargetSettings(vault: SecretVault, settings: TargetSettings): Promise<TargetSettings> {
  return mapSecrets(settings, (value) => vault.open(value));
}

/** A webhook secret to store. */
export function sealWebhookSecret(vault: SecretVault, secret: string, m?: EntityManager): Promise<string> {
  return vault.encryptScoped(secret, INSTALLATION_SCOPE, m);
}

/** The secret the jobs' lease tokens are derived from (LeaseKey migration; engine/lease-tokens.ts). */
export async function leaseKeyOf(db: DataSource, vault: SecretVault): Promise<string> {
  const rows: Array<{ key: string }> = await db.query(`SELECT lease_key AS key FROM installation`);
  if (!rows[0]) throw new Error("the installation table is empty: the database was not migrated");
  return vault.open(rows[0].key);
}

/**
 * Encrypts whatever of these secrets is still in clear (an installation from before, a row an
 * older server copy wrote during an upgrade); returns how many rows changed. Idempotent and cheap:
 * it runs at every start. Rows are locked one table at a time, each in its own transaction.
 */
export async function encryptInstallationSecrets(db: DataSource, vault: SecretVault): Promise<number> {
  let changed = 0;
  await db.transaction(async (m) => {
    const rows: Array<{ key: string }> = await m.query(
      `SELECT lease_key AS key FROM installation WHERE lease_key NOT LIKE 'sluice:enc:v1:%' FOR UPDATE`,
    );
    for (const row of rows) {
      await m.query(`UPDATE installation SET lease_key = $1`, [
        await vault.encryptScoped(row.key, INSTALLATION_SCOPE, m),
      ]);
      changed += 1;
    }
  });
  await db.transaction(async (m) => {
    const rows: Array<{ id: string; secret: string }> = await m.query(
      `SELECT pipeline_id AS id, secret FROM pipeline_webhooks WHERE secret NOT LIKE 'sluice:enc:v1:%' FOR UPDATE`,
    );
    for (const row of rows) {
      await m.query(`UPDATE pipeline_webhooks SET secret = $2 WHERE pipeline_id = $1`, [
        row.id,
        await sealWebhookSecret(vault, row.secret, m),
      ]);
      changed += 1;
    }
  });
  await db.transaction(async (m) => {
    const rows: Array<{ id: string; settings: TargetSettings }> = await m.query(
      `SELECT id, settings FROM notification_targets FOR UPDATE`,
    );
    for (const row of rows) {
      const sealed = await sealTargetSettings(vault, row.settings, m);
      if (JSON.stringify(sealed) === JSON.stringify(row.settings)) continue;
      await m.query(`UPDATE notification_targets SET settings = $2 WHERE id = $1`, [
        row.id,
        JSON.stringify(sealed),
      ]);
      changed += 1;
    }
  });
  return changed;
}
