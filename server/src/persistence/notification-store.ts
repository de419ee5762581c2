import type { DataSource, EntityManager } from "typeorm";
import { ConflictError, NotFoundError, ValidationError } from "../domain/errors";
import type { NotifiedEvent } from "../domain/notifications/events";
import type { Notification } from "../domain/notifications/messages";
import type { DetailLevel, RuleFilter } from "../domain/notifications/rules";
import type { TargetKind, TargetSettings } from "../domain/notifications/targets";
import { cursorArgument, decodeCursor, encodeCursor, exactTime, type PageQuery } from "./cursor";
import { openTargetSettings, sealTargetSettings } from "./installation-secrets";
import { queryReturning } from "./returning";
import type { SecretVault } from "./secret-vault";

export interface TargetRow {
  id: string;
  /** The account it belongs to: its rules and their deliveries are that account's. */
  account: string;
  name: string;
  kind: TargetKind;
  settings: TargetSettings;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  consecutiveFailures: number;
  circuitOpenUntil: Date | null;
  lastError: string | null;
}

export interface RuleRow {
  id: string;
  /** The account it belongs to: only its pipelines' events reach it, and it sends to its targets. */
  account: string;
  name: string;
  pipelineName: string | null;
  eventTypes: string[];
  filter: RuleFilter | null;
  detailLevel: DetailLevel;
  enabled: boolean;
  targetIds: string[];
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

export type DeliveryStatus = "PENDING" | "SUCCEEDED" | "FAILED";

export interface DeliveryRow {
  id: string;
  /** Its rule's account. */
  account: string;
  eventKey: string;
  ruleId: string | null;
  ruleName: string;
  /** null for an approver's e-mail (`recipient`). */
  targetId: string | null;
  /** The target's name, or `user/<name>` for an approver's e-mail. */
  targetName: string;
  /** The user an approval-needed e-mail goes to (one allowed to approve); null for a target's delivery. */
  recipient: string | null;
  recipientEmail: string | null;
  pipelineName: string;
  eventType: string;
  executionId: string | null;
  notification: Notification;
  status: DeliveryStatus;
  attempts: number;
  createdAt: Date;
  nextAttemptAt: Date;
  giveUpAt: Date;
  deliveredAt: Date | null;
  lastStatusCode: number | null;
  lastLatencyMs: number | null;
  lastError: string | null;
}

export interface AttemptRow {
  attempt: number;
  at: Date;
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

export interface NewDelivery {
  /** Its rule's account. */
  account: string;
  eventKey: string;
  ruleId: string;
  ruleName: string;
  /** A target, or (targetId null) one approver at their e-mail address. */
  targetId: string | null;
  recipient?: { name: string; email: string } | null;
  pipelineName: string;
  eventType: string;
  executionId: string | null;
  notification: Omit<Notification, "id">;
  giveUpAt: Date;
}

/** A claimed delivery: the row and what sending it needs (no target for an approver's e-mail). */
export interface ClaimedDelivery extends DeliveryRow {
  target: TargetRow | null;
}

/** A user with an e-mail address and the policies that apply to them (theirs, then their groups'). */
export interface UserWithPolicies {
  name: string;
  email: string;
  /** A managed policy comes with a null document (the caller knows its text). */
  policies: Array<{ name: string; document: unknown }>;
  groups: Array<{ name: string; policies: Array<{ name: string; document: unknown }> }>;
}

export interface InboxEvent {
  id: string;
  msgId: string;
  event: NotifiedEvent;
}

export interface ExecutionRecord {
  id: string;
  status: string;
  triggerType: string;
  view: {
    statusSummary?: string | null;
    trigger?: { triggerDetail?: string | null };
    sourceRevisions?: Notification["execution"] extends infer E
      ? E extends { sourceRevisions: infer R }
        ? R
        : never
      : never;
    outputVariables?: Record<string, Record<string, string>>;
  };
  /** The source actions' configured branches in the version the execution runs. */
  configuredBranches: string[];
}

const TARGET_COLUMNS = `t.id, t.account, t.name, t.kind, t.settings, t.created_by AS "createdBy", t.created_at AS "createdAt",
  t.updated_at AS "updatedAt", t.consecutive_failures AS "consecutiveFailures",
  t.circuit_open_until AS "circuitOpenUntil", t.last_error AS "lastError"`;

const RULE_COLUMNS = `r.id, r.account, r.name, r.pipeline_name AS "pipelineName", r.event_types AS "eventTypes", r.filter,
  r.detail_level AS "detailLevel", r.enabled, r.created_by AS "createdBy", r.created_at AS "createdAt",
  r.updated_at AS "updatedAt",
  COALESCE((SELECT array_agg(rt.target_id::text ORDER BY rt.target_id) FROM notification_rule_targets rt
             WHERE rt.rule_id = r.id), '{}') AS "targetIds"`;

const DELIVERY_COLUMNS = `d.id, d.account, d.event_key AS "eventKey", d.rule_id AS "ruleId", d.rule_name AS "ruleName",
  d.target_id AS "targetId",
  COALESCE((SELECT name FROM notification_targets WHERE id = d.target_id), 'user/' || d.recipient) AS "targetName",
  d.recipient, d.recipient_email AS "recipientEmail",
  d.pipeline_name AS "pipelineName", d.event_type AS "eventType", d.execution_id AS "executionId",
  d.notification, d.status, d.attempts, d.created_at AS "createdAt", d.next_attempt_at AS "nextAttemptAt",
  d.give_up_at AS "giveUpAt", d.delivered_at AS "deliveredAt", d.last_status_code AS "lastStatusCode",
  d.last_latency_ms AS "lastLatencyMs", d.last_error AS "lastError"`;

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === "23505";

/**
 * Targets, rules, the inbox the outbox trigger fills, deliveries and their attempts. A target's
 * URL, secret and header values are stored encrypted (persistence/installation-secrets.ts) and
 * every TargetRow this returns holds them opened.
 */
export class NotificationStore {
  constructor(
    private readonly db: DataSource,
    private readonly vault: SecretVault,
  ) {}

  private async opened<R extends TargetRow | null | undefined>(row: R): Promise<R> {
    if (!row) return row;
    return { ...row, settings: await openTargetSettings(this.vault, row.settings) };
  }

  // ── targets ──────────────────────────────────────────────────────────────────────────────────

  /** The account's targets, by name. */
  async listTargets(account: string): Promise<TargetRow[]> {
    const rows: TargetRow[] = await this.db.query(
      `SELECT ${TARGET_COLUMNS} FROM notification_targets t WHERE t.account = $1 ORDER BY t.name`,
      [account],
    );
    return Promise.all(rows.map((row) => this.opened(row)));
  }

  async findTarget(id: string): Promise<TargetRow | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.query(
      `SELECT ${TARGET_COLUMNS} FROM notification_targets t WHERE t.id = $1`,
      [id],
    );
    return (await this.opened(row as TargetRow | undefined)) ?? null;
  }

  /** The account's target; another account's is as unknown. */
  async requireTarget(account: string, id: string): Promise<TargetRow> {
    const row = await this.findTarget(id);
    if (!row || row.account !== account) throw new NotFoundError(`No notification target has id "${id}".`);
    return row;
  }

  async createTarget(
    account: string,
    name: string,
    kind: TargetKind,
    settings: TargetSettings,
    by: string,
  ): Promise<TargetRow> {
    try {
      const [row] = await this.db.query(
        `INSERT INTO notification_targets AS t (name, kind, settings, created_by, account) VALUES ($1, $2, $3, $4, $5)
         RETURNING ${TARGET_COLUMNS}`,
        [name, kind, JSON.stringify(await sealTargetSettings(this.vault, settings)), by, account],
      );
      return this.opened(row as TargetRow);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(`A notification target is already named "${name}".`);
      throw error;
    }
  }

  async updateTarget(
    account: string,
    id: string,
    name: string,
    settings: TargetSettings,
  ): Promise<TargetRow> {
    try {
      // New settings close the circuit: the failures were probably the old address's.
      const rows = await queryReturning<TargetRow>(
        this.db,
        `UPDATE notification_targets t SET name = $2, settings = $3, updated_at = now(),
                consecutive_failures = 0, circuit_open_until = NULL
          WHERE t.id = $1 AND t.account = $4 RETURNING ${TARGET_COLUMNS}`,
        [id, name, JSON.stringify(await sealTargetSettings(this.vault, settings)), account],
      );
      const row = rows[0];
      if (!row) throw new NotFoundError(`No notification target has id "${id}".`);
      return this.opened(row);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(`A notification target is already named "${name}".`);
      throw error;
    }
  }

  /** Refused while a rule sends to it: the rule would silently lose a destination. */
  async deleteTarget(account: string, id: string): Promise<void> {
    await this.requireTarget(account, id);
    const used: Array<{ name: string }> = await this.db.query(
      `SELECT r.name FROM notification_rules r JOIN notification_rule_targets rt ON rt.rule_id = r.id
        WHERE rt.target_id = $1 ORDER BY r.name`,
      [id],
    );
    if (used.length > 0) {
      throw new ConflictError(
        `The target is used by rule${used.length > 1 ? "s" : ""} ${used.map((r) => r.name).join(", ")}: remove it from them first.`,
      );
    }
    await this.db.query(`DELETE FROM notification_targets WHERE id = $1`, [id]);
  }

  // ── rules ────────────────────────────────────────────────────────────────────────────────────

  /** The account's rules (with a pipeline name: those of that pipeline and of every pipeline). */
  async listRules(account: string, pipelineName: string | null): Promise<RuleRow[]> {
    return pipelineName === null
      ? this.db.query(
          `SELECT ${RULE_COLUMNS} FROM notification_rules r WHERE r.account = $1 ORDER BY r.name`,
          [account],
        )
      : this.db.query(
          `SELECT ${RULE_COLUMNS} FROM notification_rules r
            WHERE r.account = $2 AND (r.pipeline_name = $1 OR r.pipeline_name IS NULL)
            ORDER BY r.name`,
          [pipelineName, account],
        );
  }

  async findRule(id: string, m: EntityManager | DataSource = this.db): Promise<RuleRow | null> {
    if (!isUuid(id)) return null;
    const [row] = await m.query(`SELECT ${RULE_COLUMNS} FROM notification_rules r WHERE r.id = $1`, [id]);
    return row ?? null;
  }

  /** The account's rule; another account's is as unknown. */
  async requireRule(account: string, id: string): Promise<RuleRow> {
    const row = await this.findRule(id);
    if (!row || row.account !== account) throw new NotFoundError(`No notification rule has id "${id}".`);
    return row;
  }

  /**
   * Creates (id null) or replaces a rule of the account and its targets (of the account too) in one
   * transaction.
   */
  async saveRule(
    account: string,
    id: string | null,
    rule: Omit<RuleRow, "id" | "account" | "createdBy" | "createdAt" | "updatedAt">,
    by: string,
    path: string,
  ): Promise<RuleRow> {
    return this.db.transaction(async (m) => {
      const known: Array<{ id: string }> = await m.query(
        `SELECT id::text AS id FROM notification_targets WHERE id = ANY($1::uuid[]) AND account = $2`,
        [rule.targetIds.filter(isUuid), account],
      );
      const found = new Set(known.map((k) => k.id));
      const missing = rule.targetIds
        .map((targetId, i) => ({ targetId, i }))
        .filter(({ targetId }) => !found.has(targetId));
      if (missing.length > 0) {
        throw new ValidationError(
          missing.map(({ targetId, i }) => ({
            path: `${path}.targetIds[${i}]`,
            message: `no notification target has id "${targetId.slice(0, 64)}"`,
          })),
        );
      }
      const values = [
        rule.name,
        rule.pipelineName,
        rule.eventTypes,
        rule.filter ? JSON.stringify(rule.filter) : null,
        rule.detailLevel,
        rule.enabled,
      ];
      let ruleId: string;
      try {
        if (id === null) {
          const [row] = await m.query(
            `INSERT INTO notification_rules (name, pipeline_name, event_types, filter, detail_level, enabled, created_by, account)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id::text AS id`,
            [...values, by, account],
          );
          ruleId = row.id;
        } else {
          const rows = await queryReturning<{ id: string }>(
            m,
            `UPDATE notification_rules SET name = $2, pipeline_name = $3, event_types = $4, filter = $5,
                    detail_level = $6, enabled = $7, updated_at = now()
              WHERE id = $1 AND account = $8 RETURNING id::text AS id`,
            [id, ...values, account],
          );
          if (rows.length === 0) throw new NotFoundError(`No notification rule has id "${id}".`);
          ruleId = id;
          await m.query(`DELETE FROM notification_rule_targets WHERE rule_id = $1`, [id]);
        }
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw new ConflictError(`A notification rule is already named "${rule.name}".`);
        }
        throw error;
      }
      await m.query(
        `INSERT INTO notification_rule_targets (rule_id, target_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING`,
        [ruleId, rule.targetIds],
      );
      return (await this.findRule(ruleId, m))!;
    });
  }

  async deleteRule(account: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    const rows = await queryReturning(
      this.db,
      `DELETE FROM notification_rules WHERE id = $1 AND account = $2 RETURNING id`,
      [id, account],
    );
    return rows.length > 0;
  }

  /** The enabled rules with their targets: what the dispatcher matches events against. */
  async activeRules(m: EntityManager): Promise<RuleRow[]> {
    return m.query(`SELECT ${RULE_COLUMNS} FROM notification_rules r WHERE r.enabled`);
  }

  // ── inbox → deliveries ───────────────────────────────────────────────────────────────────────

  /** Takes (deletes) up to `limit` inbox events in this transaction; other server copies skip them. */
  async takeInbox(m: EntityManager, limit: number): Promise<InboxEvent[]> {
    const rows = await queryReturning<{ id: string; msgId: string; payload: NotifiedEvent }>(
      m,
      `DELETE FROM notification_inbox WHERE id IN (
         SELECT id FROM notification_inbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING id::text AS id, msg_id AS "msgId", payload`,
      [limit],
    );
    return rows
      .sort((a, b) => Number(a.id) - Number(b.id))
      .map((row) => ({ id: row.id, msgId: row.msgId, event: row.payload }));
  }

  /** What filters and messages need of these executions: status, trigger, revisions, branches. */
  async executions(m: EntityManager, ids: string[]): Promise<Map<string, ExecutionRecord>> {
    if (ids.length === 0) return new Map();
    const rows: ExecutionRecord[] = await m.query(
      `SELECT e.id::text AS id, e.status, e.trigger_type AS "triggerType",
              jsonb_build_object('statusSummary', e.view->'statusSummary', 'trigger', e.view->'trigger',
                                 'sourceRevisions', e.view->'sourceRevisions',
                                 'outputVariables', e.view->'outputVariables') AS view,
              COALESCE((SELECT array_agg(DISTINCT a->'configuration'->>'Branch')
                          FROM json_array_elements(v.document->'stages') s,
                               json_array_elements(s->'actions') a
                         WHERE a->'actionTypeId'->>'category' = 'Source'
                           AND a->'configuration'->>'Branch' IS NOT NULL), '{}') AS "configuredBranches"
         FROM pipeline_executions e
         LEFT JOIN pipeline_versions v ON v.pipeline_id = e.pipeline_id AND v.version = e.pipeline_version
        WHERE e.id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((row) => [row.id, row]));
  }

  /**
   * The users of an account who have an e-mail address, each with the policies that apply to them:
   * theirs, then their groups' (the order the checker evaluates them in, identity-store's holder()).
   */
  async usersWithEmail(m: EntityManager, account: string): Promise<UserWithPolicies[]> {
    return m.query(
      `WITH attached AS (
         SELECT a.principal_kind AS kind, a.principal_name AS holder,
                json_agg(json_build_object('name', a.policy_name, 'document', p.document)
                         ORDER BY a.attached_at, a.policy_name) AS policies
           FROM policy_attachments a
           LEFT JOIN identity_policies p ON p.name = a.policy_name AND p.account = a.account
          WHERE a.principal_kind IN ('user', 'group') AND a.account = $1
          GROUP BY a.principal_kind, a.principal_name)
       SELECT u.name, u.email,
              COALESCE((SELECT policies FROM attached WHERE kind = 'user' AND holder = u.name), '[]') AS policies,
              COALESCE((SELECT json_agg(json_build_object('name', g.name, 'policies',
                                          COALESCE((SELECT policies FROM attached
                                                     WHERE kind = 'group' AND holder = g.name), '[]'))
                                        ORDER BY g.name)
                          FROM identity_group_members gm JOIN identity_groups g ON g.id = gm.group_id
                         WHERE gm.user_id = u.id), '[]') AS groups
         FROM identity_users u
        WHERE u.email IS NOT NULL AND u.email <> '' AND u.account = $1
        ORDER BY u.name`,
      [account],
    );
  }

  /** The resolved configuration of an action execution, from its execution's view. */
  async actionConfiguration(
    m: EntityManager,
    executionId: string,
    actionExecutionId: string,
  ): Promise<Record<string, string> | null> {
    if (!isUuid(executionId)) return null;
    const [row] = await m.query(
      `SELECT a->'resolvedConfiguration' AS configuration
         FROM pipeline_executions e, jsonb_array_elements(e.view::jsonb->'stages') s,
              jsonb_array_elements(s->'actions') a
        WHERE e.id = $1 AND a->>'actionExecutionId' = $2
        LIMIT 1`,
      [executionId, actionExecutionId],
    );
    return row?.configuration ?? null;
  }

  /** Inserts deliveries; one per event, rule and target even if the same event is dispatched twice. */
  async insertDeliveries(m: EntityManager | null, deliveries: NewDelivery[]): Promise<string[]> {
    if (deliveries.length === 0) return [];
    // ON CONFLICT without a target: the once-per-target and the once-per-recipient keys alike.
    const rows: Array<{ id: string }> = await (m ?? this.db).query(
      `INSERT INTO notification_deliveries
         (event_key, rule_id, rule_name, target_id, pipeline_name, event_type, execution_id, notification, give_up_at,
          recipient, recipient_email, account)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::uuid[],
                            $8::jsonb[], $9::timestamptz[], $10::text[], $11::text[], $12::text[])
       ON CONFLICT DO NOTHING
       RETURNING id::text AS id`,
      [
        deliveries.map((d) => d.eventKey),
        deliveries.map((d) => d.ruleId),
        deliveries.map((d) => d.ruleName),
        deliveries.map((d) => d.targetId),
        deliveries.map((d) => d.pipelineName),
        deliveries.map((d) => d.eventType),
        deliveries.map((d) => d.executionId),
        deliveries.map((d) => JSON.stringify(d.notification)),
        deliveries.map((d) => d.giveUpAt.toISOString()),
        deliveries.map((d) => d.recipient?.name ?? null),
        deliveries.map((d) => d.recipient?.email ?? null),
        deliveries.map((d) => d.account),
      ],
    );
    return rows.map((row) => row.id);
  }

  // ── delivery ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Claims due deliveries for `leaseMs`: no other server copy takes them meanwhile (SKIP LOCKED,
   * then the lease). A copy that dies while sending leaves the lease to run out, and the delivery
   * is sent again: at least once. Targets whose circuit is open are skipped until it half-opens.
   */
  async claim(
    limit: number,
    leaseMs: number,
    skipTargets: string[],
    skipRecipients = false,
  ): Promise<ClaimedDelivery[]> {
    const rows: Array<DeliveryRow & { target: TargetRow | null }> = await this.db.query(
      `WITH due AS (
         SELECT d.id FROM notification_deliveries d LEFT JOIN notification_targets t ON t.id = d.target_id
          WHERE d.status = 'PENDING' AND d.next_attempt_at <= now()
            AND (d.claimed_until IS NULL OR d.claimed_until < now())
            AND (t.circuit_open_until IS NULL OR t.circuit_open_until <= now())
            AND (CASE WHEN d.target_id IS NULL THEN NOT $4::boolean
                      ELSE NOT (d.target_id = ANY($3::uuid[])) END)
          ORDER BY d.next_attempt_at LIMIT $1 FOR UPDATE OF d SKIP LOCKED),
       claimed AS (
         UPDATE notification_deliveries d SET claimed_until = now() + make_interval(secs => $2::float8 / 1000),
                attempts = d.attempts + 1
           FROM due WHERE d.id = due.id RETURNING d.*)
       SELECT ${DELIVERY_COLUMNS},
              (SELECT row_to_json(x) FROM (SELECT ${TARGET_COLUMNS} FROM notification_targets t WHERE t.id = d.target_id) x)
                AS target
         FROM claimed d`,
      [limit, leaseMs, skipTargets, skipRecipients],
    );
    return Promise.all(
      rows.map(async (row) => ({
        ...row,
        target:
          row.target &&
          (await this.opened({
            ...row.target,
            createdAt: new Date(row.target.createdAt),
            updatedAt: new Date(row.target.updatedAt),
            circuitOpenUntil: row.target.circuitOpenUntil ? new Date(row.target.circuitOpenUntil) : null,
          })),
      })),
    );
  }

  /**
   * Records an attempt's outcome: the attempt row, the delivery's new state (unless the claim is
   * no longer this attempt's: redelivered meanwhile, or claimed again after its lease ran out),
   * and the target's
   * circuit (closed by a success; opened for `circuit.openMs` after `circuit.threshold` failures
   * in a row).
   */
  async recordAttempt(
    delivery: { id: string; targetId: string | null; attempt: number },
    outcome: { ok: boolean; statusCode: number | null; latencyMs: number; error: string | null },
    next: { retryInMs: number } | null,
    circuit: { threshold: number; openMs: number },
  ): Promise<DeliveryRow> {
    // One statement (one round trip, no transaction of its own): the attempt, the delivery's new
    // state, the target's circuit, and the delivery as it now is.
    const rows: DeliveryRow[] = await this.db.query(
      `WITH attempt AS (
         INSERT INTO notification_attempts (delivery_id, attempt, ok, status_code, latency_ms, error)
         VALUES ($1, $7, $2, $3, $4, $5)),
       target AS (
         -- success closes the circuit (written only when it was not closed); a failure counts
         UPDATE notification_targets SET
                consecutive_failures = CASE WHEN $2 THEN 0 ELSE consecutive_failures + 1 END,
                last_error = CASE WHEN $2 THEN last_error ELSE $5 END,
                circuit_open_until = CASE WHEN $2 THEN NULL
                                          WHEN consecutive_failures + 1 >= $9
                                          THEN now() + make_interval(secs => $10::float8 / 1000) END
          WHERE id = $8 AND (NOT $2 OR consecutive_failures > 0 OR circuit_open_until IS NOT NULL)),
       d AS (
         UPDATE notification_deliveries SET
            status = CASE WHEN $2 THEN 'SUCCEEDED' WHEN $6::float8 IS NULL OR now() + make_interval(secs => $6::float8 / 1000) > give_up_at
                          THEN 'FAILED' ELSE 'PENDING' END,
            delivered_at = CASE WHEN $2 THEN now() ELSE delivered_at END,
            next_attempt_at = CASE WHEN $6::float8 IS NULL THEN next_attempt_at
                                   ELSE now() + make_interval(secs => $6::float8 / 1000) END,
            claimed_until = NULL, last_status_code = $3, last_latency_ms = $4, last_error = $5
          WHERE id = $1 AND attempts = $7 AND claimed_until IS NOT NULL
          RETURNING *)
       SELECT ${DELIVERY_COLUMNS} FROM d`,
      [
        delivery.id,
        outcome.ok,
        outcome.statusCode,
        outcome.latencyMs,
        outcome.error,
        next?.retryInMs ?? null,
        delivery.attempt,
        delivery.targetId,
        circuit.threshold,
        circuit.openMs,
      ],
    );
    if (rows[0]) return rows[0];
    // The claim was no longer this copy's (it ran out and another copy took the delivery): the
    // attempt is recorded, the delivery is as the other copy leaves it.
    const [row] = await this.db.query(
      `SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries d WHERE d.id = $1`,
      [delivery.id],
    );
    return row as DeliveryRow;
  }

  /**
   * Fails the pending deliveries whose time ran out with no attempt due in between (their target's
   * circuit stayed open); returns their ids. A delivery whose claim was lost with its server copy
   * (`claimed_until` still set) is left to be attempted once more: it may not have been sent.
   */
  async expire(): Promise<string[]> {
    const rows = await queryReturning<{ id: string }>(
      this.db,
      `UPDATE notification_deliveries
          SET status = 'FAILED',
              last_error = COALESCE(last_error || ' (then no attempt before the retry time ran out)',
                                    'not sent before the retry time ran out: the target''s circuit was open')
        WHERE status = 'PENDING' AND give_up_at < now() AND claimed_until IS NULL
        RETURNING id::text AS id`,
      [],
    );
    return rows.map((row) => row.id);
  }

  /** Sends a delivery again (same message id: a receiver that de-duplicates shows it once). */
  async redeliver(account: string, id: string, giveUpAt: Date): Promise<DeliveryRow> {
    const existing = await this.findDelivery(id);
    if (!existing || existing.account !== account)
      throw new NotFoundError(`No notification delivery has id "${id}".`);
    await this.db.query(
      `UPDATE notification_deliveries SET status = 'PENDING', next_attempt_at = now(), give_up_at = $2,
              claimed_until = NULL WHERE id = $1`,
      [id, giveUpAt],
    );
    return (await this.findDelivery(id))!;
  }

  async findDelivery(id: string): Promise<DeliveryRow | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.db.query(
      `SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries d WHERE d.id = $1`,
      [id],
    );
    return row ?? null;
  }

  async findDeliveries(ids: string[]): Promise<DeliveryRow[]> {
    if (ids.length === 0) return [];
    return this.db.query(
      `SELECT ${DELIVERY_COLUMNS} FROM notification_deliveries d WHERE d.id = ANY($1::uuid[]) ORDER BY d.created_at, d.id`,
      [ids],
    );
  }

  /**
   * A page, newest first: `page.size + 1` rows from the cursor on (backward: the newer ones before
   * it, nearest first), each with its cursor.
   */
  async pageDeliveries(
    page: PageQuery,
    filter: DeliveryFilter,
  ): Promise<Array<DeliveryRow & { cursor: string }>> {
    const found = deliveryWhere(filter);
    if (!found) return [];
    const { where, params } = found;
    if (page.cursor) {
      const [at, id] = decodeCursor<[string, string]>(page.cursor, ["time", "uuid"], cursorArgument(page));
      where.push(
        `(d.created_at, d.id) ${page.backward ? ">" : "<"} ($${params.push(at)}::timestamptz, $${params.push(id)}::uuid)`,
      );
    }
    const direction = page.backward ? "ASC" : "DESC";
    const rows: Array<DeliveryRow & { cursorAt: string }> = await this.db.query(
      `SELECT ${DELIVERY_COLUMNS}, ${exactTime("d.created_at")} AS "cursorAt" FROM notification_deliveries d
        ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
        ORDER BY d.created_at ${direction}, d.id ${direction} LIMIT $${params.push(page.size + 1)}`,
      params,
    );
    return rows.map(({ cursorAt, ...row }) => ({ ...row, cursor: encodeCursor([cursorAt, row.id]) }));
  }

  async countDeliveries(filter: DeliveryFilter): Promise<number> {
    const found = deliveryWhere(filter);
    if (!found) return 0;
    const rows: Array<{ count: string }> = await this.db.query(
      `SELECT count(*) FROM notification_deliveries d ${found.where.length ? `WHERE ${found.where.join(" AND ")}` : ""}`,
      found.params,
    );
    return Number(rows[0]!.count);
  }

  async attempts(deliveryId: string): Promise<AttemptRow[]> {
    return this.db.query(
      `SELECT attempt, at, ok, status_code AS "statusCode", latency_ms AS "latencyMs", error
         FROM notification_attempts WHERE delivery_id = $1 ORDER BY id`,
      [deliveryId],
    );
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export interface DeliveryFilter {
  /** The account whose deliveries are listed. */
  account: string;
  ruleId: string | null;
  targetId: string | null;
  status: DeliveryStatus | null;
  pipelineName: string | null;
  executionId: string | null;
}

/** The filter as SQL; null when it can match nothing (an id that is not a UUID). */
function deliveryWhere(filter: DeliveryFilter): { where: string[]; params: unknown[] } | null {
  const where: string[] = [];
  const params: unknown[] = [];
  where.push(`d.account = $${params.push(filter.account)}`);
  for (const [column, value] of [
    ["rule_id", filter.ruleId],
    ["target_id", filter.targetId],
    ["execution_id", filter.executionId],
  ] as const) {
    if (value == null) continue;
    if (!isUuid(value)) return null;
    where.push(`d.${column} = $${params.push(value)}::uuid`);
  }
  if (filter.status) where.push(`d.status = $${params.push(filter.status)}`);
  if (filter.pipelineName) where.push(`d.pipeline_name = $${params.push(filter.pipelineName)}`);
  return { where, params };
}
