/**
 * The keys that sign the server's messages to agents (PROTOCOL.md 11.5), shared by every server
 * copy through PostgreSQL: the private half is a secret-vault envelope, never in clear at rest.
 */
import type { DataSource } from "typeorm";
import {
  generateMessageSigningKey,
  messageSigningKeyFromSeed,
  type MessageSigningKey,
} from "@sluice/protocol";
import type { SecretVault } from "./secret-vault";

/** Serialises the first start of several copies: one of them makes the key. */
const SIGNING_KEY_LOCK = 736_411_002;

export class SigningKeyStore {
  constructor(
    private readonly db: DataSource,
    private readonly vault: SecretVault,
  ) {}

  /**
   * The key that signs (the newest not retired), made on the first start. `created` says whether
   * this call made it.
   */
  async current(): Promise<{ key: MessageSigningKey; created: boolean }> {
    return this.db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock($1)`, [SIGNING_KEY_LOCK]);
      const rows: Array<{ envelope: string }> = await m.query(
        `SELECT seed_envelope AS envelope FROM message_signing_keys
          WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1`,
      );
      const row = rows[0];
      if (row)
        return { key: messageSigningKeyFromSeed(await this.vault.decrypt(row.envelope, m)), created: false };
      const fresh = generateMessageSigningKey();
      await m.query(`INSERT INTO message_signing_keys (public_key, seed_envelope) VALUES ($1, $2)`, [
        fresh.publicKey,
        await this.vault.encryptScoped(fresh.seed, "signing-keys", m),
      ]);
      return { key: { publicKey: fresh.publicKey, privateKey: fresh.privateKey }, created: true };
    });
  }

  /** The public keys agents trust: every key not retired, the newest (the one that signs) first. */
  async publicKeys(): Promise<string[]> {
    const rows: Array<{ key: string }> = await this.db.query(
      `SELECT public_key AS key FROM message_signing_keys WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 8`,
    );
    return rows.map((r) => r.key);
  }
}
