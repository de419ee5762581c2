/**
 * The secret store: named secrets of each account (a name is unique in its account), each a list of value versions (the latest
 * is used) with a description and who made and changed it. Values are envelopes
 * (`sluice:enc:v1:`, persistence/secret-vault.ts) under a data key of the secret's own, so that
 * `sluice admin rotate-key` re-wraps them with every other data key and deleting a secret destroys
 * its key. Nothing here returns a value to a client: only `latestValues`, which the agent gateway
 * calls to seal a job's references for the agent that runs it (PROTOCOL.md 5.11).
 */
import type { DataSource, EntityManager } from "typeorm";
import { NotFoundError, ValidationError, type ValidationIssue } from "../domain/errors";
import {
  KEPT_SECRET_VERSIONS,
  MAX_SECRET_DESCRIPTION,
  MAX_SECRET_VALUE,
  SECRET_NAME,
} from "../domain/secrets/references";
import { auditedTransaction } from "./audit-store";
import { queryReturning } from "./returning";
import type { SecretVault } from "./secret-vault";

export interface SecretRow {
  name: string;
  description: string | null;
  /** The latest version's number (1 for a new secret). */
  version: number;
  createdBy: string;
  createdAt: Date;
  updatedBy: string;
  updatedAt: Date;
}

const COLUMNS = `name, description, latest_version AS version, created_by AS "createdBy",
  created_at AS "createdAt", updated_by AS "updatedBy", updated_at AS "updatedAt"`;

export function secretInputIssues(
  name: string,
  value: string,
  description: string | null,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  if (!SECRET_NAME.test(name))
    issues.push({ path: "name", message: "must be 1–128 characters from A-Z a-z 0-9 _ . @ + = -" });
  if (value.length === 0) issues.push({ path: "value", message: "must not be empty" });
  else if (value.length > MAX_SECRET_VALUE)
    issues.push({ path: "value", message: `must be at most ${MAX_SECRET_VALUE} characters` });
  else if (value.includes("\0")) issues.push({ path: "value", message: "must not hold a NUL character" });
  if (description !== null && description.length > MAX_SECRET_DESCRIPTION)
    issues.push({ path: "description", message: `must be at most ${MAX_SECRET_DESCRIPTION} characters` });
  return issues;
}

export class SecretStore {
  constructor(
    private readonly db: DataSource,
    private readonly vault: SecretVault,
  ) {}

  /**
   * Stores a new version of the secret (creating it with version 1). A null description keeps the
   * stored one. Versions beyond the last KEPT_SECRET_VERSIONS are dropped.
   */
  async put(
    account: string,
    name: string,
    value: string,
    description: string | null,
    by: string,
  ): Promise<SecretRow> {
    const issues = secretInputIssues(name, value, description);
    if (issues.length > 0) throw new ValidationError(issues);
    return auditedTransaction(this.db, async (m) => {
      // Serializes the puts of one name (a new one has no row to lock yet).
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('stored_secrets:' || $1 || ':' || $2))`, [
        account,
        name,
      ]);
      const [current]: Array<{ dataKeyId: string; version: number }> = await m.query(
        `SELECT data_key_id AS "dataKeyId", latest_version AS version FROM stored_secrets
          WHERE account = $1 AND name = $2 FOR UPDATE`,
        [account, name],
      );
      const dataKeyId = current?.dataKeyId ?? (await this.vault.createDataKey(m));
      const version = (current?.version ?? 0) + 1;
      if (current) {
        await m.query(
          `UPDATE stored_secrets SET latest_version = $2, description = COALESCE($3, description),
                  updated_by = $4, updated_at = now() WHERE name = $1 AND account = $5`,
          [name, version, description, by, account],
        );
      } else {
        await m.query(
          `INSERT INTO stored_secrets (account, name, description, data_key_id, latest_version, created_by, updated_by)
           VALUES ($6, $1, $2, $3, $4, $5, $5)`,
          [name, description, dataKeyId, version, by, account],
        );
      }
      await m.query(
        `INSERT INTO stored_secret_versions (account, name, version, value, created_by) VALUES ($5, $1, $2, $3, $4)`,
        [name, version, await this.vault.encrypt(value, dataKeyId, m), by, account],
      );
      await m.query(`DELETE FROM stored_secret_versions WHERE account = $3 AND name = $1 AND version <= $2`, [
        name,
        version - KEPT_SECRET_VERSIONS,
        account,
      ]);
      return (await this.rows(m, account, [name]))[0]!;
    });
  }

  /** Every secret's name and metadata of an account, by name. */
  async list(account: string): Promise<SecretRow[]> {
    return this.db.query(`SELECT ${COLUMNS} FROM stored_secrets WHERE account = $1 ORDER BY name`, [account]);
  }

  /** The secrets of these names that exist in the account. */
  async existing(
    account: string,
    names: readonly string[],
    m: EntityManager = this.db.manager,
  ): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const rows: Array<{ name: string }> = await m.query(
      `SELECT name FROM stored_secrets WHERE account = $2 AND name = ANY($1::text[])`,
      [[...names], account],
    );
    return new Set(rows.map((r) => r.name));
  }

  /** Deletes the secret, every version and its data key: its values cannot be opened again. */
  async delete(account: string, name: string): Promise<void> {
    await auditedTransaction(this.db, async (m) => {
      const [row] = await queryReturning<{ dataKeyId: string }>(
        m,
        `DELETE FROM stored_secrets WHERE account = $2 AND name = $1 RETURNING data_key_id AS "dataKeyId"`,
        [name, account],
      );
      if (!row) throw new NotFoundError(`No secret is named "${name}".`);
      await this.vault.deleteDataKey(row.dataKeyId, m);
    });
  }

  /**
   * The clear latest value of each named secret of the account that exists (for sealing a job's
   * references: the job's pipeline's account; the caller checked who may have them). Missing names
   * are absent from the map.
   */
  async latestValues(account: string, names: readonly string[]): Promise<Map<string, string>> {
    const values = new Map<string, string>();
    if (names.length === 0) return values;
    const rows: Array<{ name: string; value: string }> = await this.db.query(
      `SELECT s.name, v.value FROM stored_secrets s
         JOIN stored_secret_versions v
           ON v.account = s.account AND v.name = s.name AND v.version = s.latest_version
        WHERE s.account = $2 AND s.name = ANY($1::text[])`,
      [[...names], account],
    );
    for (const row of rows) values.set(row.name, await this.vault.decrypt(row.value));
    return values;
  }

  private rows(m: EntityManager, account: string, names: string[]): Promise<SecretRow[]> {
    return m.query(
      `SELECT ${COLUMNS} FROM stored_secrets WHERE account = $2 AND name = ANY($1::text[]) ORDER BY name`,
      [names, account],
    );
  }
}
