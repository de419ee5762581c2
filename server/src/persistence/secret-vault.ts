/**
 * Secret configuration values at rest (docs/ARCHITECTURE.md, "Secrets"): envelope encryption.
 *
 * - A value a type declares `secret` is stored as an envelope `sluice:enc:v1:<dataKeyId>.<iv>.<ct>`,
 *   AES-256-GCM under a data key of its pipeline (one per pipeline, made with its first secret),
 *   the data key id as additional data. Every copy of the document the server keeps (pipeline,
 *   versions, the runtime's pinned copy, execution views, history, outbox rows, job messages)
 *   holds the envelope, never the value.
 * - Data keys live in `secret_data_keys`, each wrapped (AES-256-GCM) by a master key named by
 *   `master_key_id` (the first 16 hex digits of its SHA-256). Master keys come from
 *   SLUICE_MASTER_KEY (base64 keys, comma-separated, the first one current) or from a file
 *   (SLUICE_MASTER_KEY_FILE, default `<data dir>/master-key`, made 0600 on the first start).
 * - Rotation re-wraps the data keys under the current master key; values stay as they are, so
 *   nothing else is rewritten and every copy keeps working: a copy that meets a master key id it
 *   does not hold reads the key file again.
 * - The server opens values only to seal them for the agent that runs the job
 *   (messaging/agent-gateway.ts) and to sign outgoing webhook calls on the agent: never to show.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { DataSource, EntityManager } from "typeorm";
import { ENVELOPE_PREFIX, isEnvelope } from "@sluice/protocol";
import type { ActionTypeRegistry } from "../domain/action-types/action-type";
import { ValidationError, type ValidationIssue } from "../domain/errors";
import type { PipelineDocument } from "../domain/pipeline/document";
import { secretProperties } from "../domain/pipeline/secrets";

const KEY_BYTES = 32;

export interface MasterKeySource {
  /** SLUICE_MASTER_KEY: base64 keys, comma-separated, the first one current. */
  keys?: string;
  /** SLUICE_MASTER_KEY_FILE; default `<dataDir>/master-key`. */
  file?: string;
  dataDir: string;
}

interface MasterKey {
  id: string;
  key: Buffer;
}

export function masterKeyId(key: Buffer): string {
  return crypto.createHash("sha256").update(key).digest("hex").slice(0, 16);
}

function parseKeys(text: string, where: string): MasterKey[] {
  const keys = text
    .split(/[,\n]/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0 && !part.startsWith("#"))
    .map((part) => {
      const key = Buffer.from(part, part.includes("-") || part.includes("_") ? "base64url" : "base64");
      if (key.length !== KEY_BYTES)
        throw new Error(
          `${where}: each master key is ${KEY_BYTES} random bytes in base64 (openssl rand -base64 32)`,
        );
      return { id: masterKeyId(key), key };
    });
  if (keys.length === 0) throw new Error(`${where} holds no master key`);
  return keys;
}

/**
 * The master keys this server holds: the first encrypts (wraps), all of them decrypt. From the
 * environment, or from the key file (made on the first start when neither is configured).
 */
export class MasterKeyring {
  private keys: MasterKey[];
  readonly file: string | null;
  /** True when this start made the key file. */
  readonly generated: boolean;

  constructor(source: MasterKeySource) {
    if (source.keys) {
      this.keys = parseKeys(source.keys, "SLUICE_MASTER_KEY");
      this.file = null;
      this.generated = false;
      return;
    }
    this.file = source.file ?? path.join(source.dataDir, "master-key");
    let generated = false;
    if (!fs.existsSync(this.file)) {
      if (source.file) throw new Error(`SLUICE_MASTER_KEY_FILE ${source.file} does not exist`);
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      try {
        fs.writeFileSync(this.file, `${crypto.randomBytes(KEY_BYTES).toString("base64")}\n`, {
          mode: 0o600,
          flag: "wx",
        });
        generated = true;
      } catch (error) {
        // another copy sharing the data directory made it first
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
    }
    this.generated = generated;
    this.keys = parseKeys(fs.readFileSync(this.file, "utf8"), this.file);
  }

  get current(): MasterKey {
    return this.keys[0]!;
  }

  get ids(): string[] {
    return this.keys.map((k) => k.id);
  }

  /** The key of this id, reading the key file again once when it is not held (another copy rotated). */
  find(id: string): MasterKey | undefined {
    let found = this.keys.find((k) => k.id === id);
    if (!found && this.file) {
      this.keys = parseKeys(fs.readFileSync(this.file, "utf8"), this.file);
      found = this.keys.find((k) => k.id === id);
    }
    return found;
  }

  /** Reads the key file again (another copy or the operator changed it). */
  reload(): void {
    if (this.file) this.keys = parseKeys(fs.readFileSync(this.file, "utf8"), this.file);
  }

  /**
   * Starts a rotation of a file keyring: a new current key, the old ones kept for reading until
   * `finishRotation`. With keys from the environment the operator supplies the new key first in
   * SLUICE_MASTER_KEY; then nothing is generated here.
   */
  beginRotation(): void {
    if (!this.file) return;
    this.reload();
    const fresh = crypto.randomBytes(KEY_BYTES);
    this.write([{ id: masterKeyId(fresh), key: fresh }, ...this.keys]);
  }

  /** Drops the old keys from the key file once no data key is wrapped by them. */
  finishRotation(): void {
    if (!this.file) return;
    this.write([this.current]);
  }

  private write(keys: MasterKey[]): void {
    const file = this.file!;
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, keys.map((k) => `${k.key.toString("base64")}\n`).join(""), { mode: 0o600 });
    fs.renameSync(temporary, file);
    this.keys = keys;
  }
}

function aesEncrypt(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return `${iv.toString("base64url")}.${body.toString("base64url")}`;
}

function aesDecrypt(key: Buffer, sealed: string, aad: string): Buffer {
  const [iv, data] = sealed.split(".");
  if (!iv || !data) throw new Error("not an encrypted value");
  const body = Buffer.from(data, "base64url");
  const decipher = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]);
}

function envelopeKeyId(envelope: string): string | null {
  const rest = envelope.slice(ENVELOPE_PREFIX.length);
  const id = rest.split(".")[0] ?? "";
  return /^[0-9a-f-]{36}$/.test(id) ? id : null;
}

export interface RotationResult {
  masterKeyId: string;
  rewrapped: number;
}

/** Encrypts and opens secret values; keeps the data keys (see the file's comment). */
export class SecretVault {
  /** Unwrapped data keys by id: they never change, only their wrapping does. */
  private readonly dataKeys = new Map<string, Buffer>();

  constructor(
    private readonly db: DataSource,
    readonly keyring: MasterKeyring,
  ) {}

  private async newDataKey(m: EntityManager): Promise<string> {
    const id = crypto.randomUUID();
    const key = crypto.randomBytes(KEY_BYTES);
    const master = this.keyring.current;
    await m.query(`INSERT INTO secret_data_keys (id, master_key_id, wrapped) VALUES ($1, $2, $3)`, [
      id,
      master.id,
      aesEncrypt(master.key, key, id),
    ]);
    this.dataKeys.set(id, key);
    return id;
  }

  /** A new data key (a secret of the store has one of its own); its id. */
  async createDataKey(m: EntityManager): Promise<string> {
    return this.newDataKey(m);
  }

  /** Destroys a data key: what it encrypted can no longer be opened by anyone. */
  async deleteDataKey(id: string, m: EntityManager): Promise<void> {
    await m.query(`DELETE FROM secret_data_keys WHERE id = $1`, [id]);
    this.dataKeys.delete(id);
  }

  /**
   * The data key of a scope (`installation`: the webhook secrets, notification target credentials
   * and the lease key), made with the scope's first value; copies racing to make it agree on one.
   */
  private async scopedDataKey(scope: string, m: EntityManager): Promise<string> {
    const find = async () =>
      (
        (await m.query(`SELECT id FROM secret_data_keys WHERE scope = $1`, [scope])) as Array<{ id: string }>
      )[0]?.id;
    const found = await find();
    if (found) return found;
    const id = crypto.randomUUID();
    const key = crypto.randomBytes(KEY_BYTES);
    const master = this.keyring.current;
    await m.query(
      `INSERT INTO secret_data_keys (id, master_key_id, wrapped, scope) VALUES ($1, $2, $3, $4)
       ON CONFLICT (scope) WHERE scope IS NOT NULL DO NOTHING`,
      [id, master.id, aesEncrypt(master.key, key, id), scope],
    );
    return (await find())!;
  }

  /** Encrypts a value of the installation (not of a pipeline) under its scope's data key. */
  async encryptScoped(value: string, scope: string, m: EntityManager = this.db.manager): Promise<string> {
    return this.encrypt(value, await this.scopedDataKey(scope, m), m);
  }

  /** The clear value: an envelope opened, anything else (a row from before encryption) as it is. */
  async open(value: string, m?: EntityManager): Promise<string> {
    return isEnvelope(value) ? this.decrypt(value, m) : value;
  }

  private async dataKey(id: string, m: EntityManager = this.db.manager): Promise<Buffer> {
    const cached = this.dataKeys.get(id);
    if (cached) return cached;
    const rows: Array<{ master: string; wrapped: string }> = await m.query(
      `SELECT master_key_id AS master, wrapped FROM secret_data_keys WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) throw new Error(`data key ${id} does not exist`);
    const master = this.keyring.find(row.master);
    if (!master) throw new Error(`the master key ${row.master} that wraps data key ${id} is not configured`);
    const key = aesDecrypt(master.key, row.wrapped, id);
    this.dataKeys.set(id, key);
    return key;
  }

  async encrypt(value: string, dataKeyId: string, m?: EntityManager): Promise<string> {
    const key = await this.dataKey(dataKeyId, m);
    return `${ENVELOPE_PREFIX}${dataKeyId}.${aesEncrypt(key, Buffer.from(value, "utf8"), dataKeyId)}`;
  }

  async decrypt(envelope: string, m?: EntityManager): Promise<string> {
    const id = envelopeKeyId(envelope);
    if (!id) throw new Error("not an encrypted value");
    const key = await this.dataKey(id, m);
    return aesDecrypt(key, envelope.slice(ENVELOPE_PREFIX.length + id.length + 1), id).toString("utf8");
  }

  /**
   * The document to store: each secret value encrypted. A value sent back unchanged keeps its
   * envelope (no new version for an unchanged document). An envelope is accepted only where the
   * stored version has the same one (masks the API showed, restored); anywhere else it is refused,
   * so that nobody makes the server open a value copied from elsewhere.
   */
  async sealDocument(
    m: EntityManager,
    document: PipelineDocument,
    previous: PipelineDocument | null,
    registry: ActionTypeRegistry,
  ): Promise<PipelineDocument> {
    const before = new Map<string, string>();
    let dataKeyId: string | null = null;
    for (const stage of previous?.stages ?? [])
      for (const action of stage.actions)
        for (const [key, value] of Object.entries(action.configuration)) {
          before.set(JSON.stringify([stage.name, action.name, key]), value);
          if (isEnvelope(value)) dataKeyId ??= envelopeKeyId(value);
        }
    const issues: ValidationIssue[] = [];
    const stages = [];
    for (const [s, stage] of document.stages.entries()) {
      const actions = [];
      for (const [a, action] of stage.actions.entries()) {
        const secrets = secretProperties(registry.find(action.actionTypeId));
        const configuration: Record<string, string> = {};
        for (const [key, value] of Object.entries(action.configuration)) {
          const stored = before.get(JSON.stringify([stage.name, action.name, key]));
          if (isEnvelope(value)) {
            if (value !== stored || !secrets.has(key))
              issues.push({
                path: `stages[${s}].actions[${a}].configuration.${key}`,
                message: `A value starting with "${ENVELOPE_PREFIX}" is reserved for encrypted secrets.`,
              });
            configuration[key] = value;
          } else if (secrets.has(key) && value !== "") {
            if (stored !== undefined && isEnvelope(stored) && (await this.decrypt(stored, m)) === value) {
              configuration[key] = stored;
            } else {
              dataKeyId ??= await this.newDataKey(m);
              configuration[key] = await this.encrypt(value, dataKeyId, m);
            }
          } else configuration[key] = value;
        }
        actions.push({ ...action, configuration });
      }
      stages.push({ ...stage, actions });
    }
    if (issues.length > 0) throw new ValidationError(issues);
    return { ...document, stages };
  }

  /**
   * The clear values of a declaration's secret properties (those held as envelopes); the rest of
   * the configuration is not looked at.
   */
  async openSecrets(
    configuration: Record<string, string>,
    secrets: ReadonlySet<string>,
  ): Promise<Record<string, string>> {
    const open: Record<string, string> = {};
    for (const key of secrets) {
      const value = configuration[key];
      if (isEnvelope(value)) open[key] = await this.decrypt(value);
    }
    return open;
  }

  /**
   * Re-wraps every data key not wrapped by the current master key (`sluice admin rotate-key`).
   * With a key file, a new master key is made first and the old ones dropped at the end; with
   * SLUICE_MASTER_KEY the operator put the new key first. Each data key is re-wrapped in its own
   * short transaction: the old and the new master key both open data keys meanwhile.
   */
  async rotate(): Promise<RotationResult> {
    this.keyring.beginRotation();
    const current = this.keyring.current;
    let rewrapped = 0;
    const rows: Array<{ id: string }> = await this.db.query(
      `SELECT id FROM secret_data_keys WHERE master_key_id <> $1`,
      [current.id],
    );
    for (const { id } of rows) {
      await this.db.transaction(async (m) => {
        const locked: Array<{ master: string; wrapped: string }> = await m.query(
          `SELECT master_key_id AS master, wrapped FROM secret_data_keys WHERE id = $1 FOR UPDATE`,
          [id],
        );
        const row = locked[0];
        if (!row || row.master === current.id) return;
        const master = this.keyring.find(row.master);
        if (!master)
          throw new Error(`the master key ${row.master} that wraps data key ${id} is not configured`);
        const key = aesDecrypt(master.key, row.wrapped, id);
        await m.query(
          `UPDATE secret_data_keys SET master_key_id = $2, wrapped = $3, rewrapped_at = now() WHERE id = $1`,
          [id, current.id, aesEncrypt(current.key, key, id)],
        );
        rewrapped += 1;
      });
    }
    this.keyring.finishRotation();
    return { masterKeyId: current.id, rewrapped };
  }

  /** How many data keys each master key wraps (for the rotation's report). */
  async wrappedBy(): Promise<Record<string, number>> {
    const rows: Array<{ master: string; count: string }> = await this.db.query(
      `SELECT master_key_id AS master, count(*) AS count FROM secret_data_keys GROUP BY master_key_id`,
    );
    return Object.fromEntries(rows.map((r) => [r.master, Number(r.count)]));
  }

  /**
   * Encrypts the clear secret values an installation stored before encryption at rest, once:
   * pipelines, their versions, runtimes (pinned documents), execution views and history, and the
   * outbox. Every JSON object there with an `actionTypeId` and a `configuration` (or
   * `resolvedConfiguration`) has its secret properties encrypted with its pipeline's data key.
   */
  async encryptExisting(registry: ActionTypeRegistry): Promise<number> {
    const MARK = "encrypt-secret-values";
    return this.db.transaction(async (m) => {
      await m.query(`LOCK TABLE data_migrations IN EXCLUSIVE MODE`);
      const done: unknown[] = await m.query(`SELECT 1 FROM data_migrations WHERE name = $1`, [MARK]);
      if (done.length > 0) return 0;
      const keys = new Map<string, string>();
      const keyFor = async (scope: string) => {
        let id = keys.get(scope);
        if (!id) {
          id = await this.newDataKey(m);
          keys.set(scope, id);
        }
        return id;
      };
      let changed = 0;
      const tables: Array<{ table: string; column: string; key: string; scope: string }> = [
        { table: "pipelines", column: "document", key: "id", scope: "id" },
        { table: "pipeline_versions", column: "document", key: "ctid", scope: "pipeline_id" },
        { table: "pipeline_runtimes", column: "state", key: "pipeline_id", scope: "pipeline_id" },
        { table: "pipeline_executions", column: "view", key: "id", scope: "pipeline_id" },
        { table: "pipeline_executions", column: "runtime", key: "id", scope: "pipeline_id" },
        { table: "execution_events", column: "event", key: "ctid", scope: "execution_id" },
        { table: "outbox", column: "payload", key: "ctid", scope: "'outbox'" },
      ];
      for (const { table, column, key, scope } of tables) {
        const rows: Array<{ k: string; scope: string; value: unknown }> = await m.query(
          `SELECT ${key}::text AS k, ${scope}::text AS scope, ${column} AS value FROM ${table}`,
        );
        for (const row of rows) {
          let touched = false;
          const walk = async (node: unknown): Promise<void> => {
            if (Array.isArray(node)) {
              for (const item of node) await walk(item);
              return;
            }
            if (node === null || typeof node !== "object") return;
            const record = node as Record<string, unknown>;
            const typeId = record.actionTypeId;
            if (typeId && typeof typeId === "object") {
              const secrets = secretProperties(registry.find(typeId as never));
              for (const field of ["configuration", "resolvedConfiguration"]) {
                const configuration = record[field] as Record<string, unknown> | null | undefined;
                if (!configuration || typeof configuration !== "object") continue;
                for (const name of secrets) {
                  const value = configuration[name];
                  if (typeof value !== "string" || value === "" || isEnvelope(value)) continue;
                  configuration[name] = await this.encrypt(value, await keyFor(row.scope), m);
                  touched = true;
                }
              }
            }
            for (const child of Object.values(record)) await walk(child);
          };
          await walk(row.value);
          if (!touched) continue;
          changed += 1;
          await m.query(`UPDATE ${table} SET ${column} = $2 WHERE ${key}::text = $1`, [
            row.k,
            JSON.stringify(row.value),
          ]);
        }
      }
      await m.query(`INSERT INTO data_migrations (name) VALUES ($1)`, [MARK]);
      return changed;
    });
  }
}
