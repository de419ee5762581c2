/**
 * The keys that sign the server's messages to agents (PROTOCOL.md 11.5), shared by every server
 * copy through PostgreSQL: the private half is a secret-vault envelope, never in clear at rest.
 */
import type { DataSource } from "typeorm";
import {
  MAX_SERVER_KEYS,
  generateMessageSigningKey,
  messageSigningKeyFromSeed,
  type MessageSigningKey,
} from "@sluice/protocol";
import { queryReturning } from "./returning";
import type { SecretVault } from "./secret-vault";

/** Serialises the first start of several copies (one of them makes the key) and rotations. */
const SIGNING_KEY_LOCK = 736_411_002;

/** A key agents trust: the one that signs (`retiresAt` null) or one being retired. */
export interface TrustedKey {
  publicKey: string;
  /** When agents stop accepting what it signed; null for the key that signs. */
  retiresAt: Date | null;
}

export interface SigningKeyRotation {
  /** The new key, which signs from now on. */
  publicKey: string;
  /** The keys agents still accept until their time (every key signed before, within its grace). */
  retiring: Array<{ publicKey: string; retiresAt: Date }>;
}

/** More keys being retired than agents take at once (MAX_SERVER_KEYS): wait for one to retire. */
export class TooManySigningKeys extends Error {
  override readonly name = "TooManySigningKeys";
  constructor(readonly nextRetirement: Date) {
    super(
      `${MAX_SERVER_KEYS - 1} keys are still being retired (agents accept at most ${MAX_SERVER_KEYS} at once); rotate again after ${nextRetirement.toISOString()}`,
    );
  }
}

export class SigningKeyStore {
  constructor(
    private readonly db: DataSource,
    private readonly vault: SecretVault,
  ) {}

  /**
   * The key that signs (the newest with no retirement), made on the first start. `created` says
   * whether this call made it.
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

  /**
   * The keys agents trust: every key not retired yet (the one that signs and those within their
   * grace), the newest (the one that signs) first, at most MAX_SERVER_KEYS.
   */
  async trustedKeys(): Promise<TrustedKey[]> {
    const rows: Array<{ key: string; retiresAt: Date | string | null }> = await this.db.query(
      `SELECT public_key AS key, retired_at AS "retiresAt" FROM message_signing_keys
        WHERE retired_at IS NULL OR retired_at > now() ORDER BY created_at DESC LIMIT $1`,
      [MAX_SERVER_KEYS],
    );
    return rows.map((r) => ({
      publicKey: r.key,
      retiresAt: r.retiresAt === null ? null : new Date(r.retiresAt),
    }));
  }

  /** The public keys of trustedKeys(). */
  async publicKeys(): Promise<string[]> {
    return (await this.trustedKeys()).map((k) => k.publicKey);
  }

  /**
   * Makes a new key the one that signs (PROTOCOL.md 11.5, "Rotation"). Every other key still
   * trusted is retired `graceMs` from now (or at its own earlier time): agents accept what it
   * signed until then — the jobs and cancels already in the streams — and refuse it after.
   */
  async rotate(graceMs: number): Promise<SigningKeyRotation & { key: MessageSigningKey }> {
    return this.db.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock($1)`, [SIGNING_KEY_LOCK]);
      const retiring: Array<{ at: Date | string }> = await m.query(
        `SELECT retired_at AS at FROM message_signing_keys WHERE retired_at > now() ORDER BY retired_at`,
      );
      if (retiring.length >= MAX_SERVER_KEYS - 1) throw new TooManySigningKeys(new Date(retiring[0]!.at));
      const fresh = generateMessageSigningKey();
      await m.query(`INSERT INTO message_signing_keys (public_key, seed_envelope) VALUES ($1, $2)`, [
        fresh.publicKey,
        await this.vault.encryptScoped(fresh.seed, "signing-keys", m),
      ]);
      const rows = await queryReturning<{ key: string; at: Date | string }>(
        m,
        `UPDATE message_signing_keys
            SET retired_at = CASE
                  WHEN retired_at IS NULL OR retired_at > now() + $2 * interval '1 millisecond'
                  THEN now() + $2 * interval '1 millisecond'
                  ELSE retired_at END
          WHERE public_key <> $1 AND (retired_at IS NULL OR retired_at > now())
          RETURNING public_key AS key, retired_at AS at`,
        [fresh.publicKey, Math.max(0, Math.floor(graceMs))],
      );
      return {
        publicKey: fresh.publicKey,
        key: { publicKey: fresh.publicKey, privateKey: fresh.privateKey },
        retiring: rows
          .map((r) => ({ publicKey: r.key, retiresAt: new Date(r.at) }))
          .filter((r) => r.retiresAt.getTime() > Date.now())
          .sort((a, b) => b.retiresAt.getTime() - a.retiresAt.getTime()),
      };
    });
  }
}
