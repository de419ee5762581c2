import type { DataSource, EntityManager } from "typeorm";
import type { ActionTypeDefinition } from "../domain/action-types/action-type";
import type { InstallationArchive } from "../domain/archive/format";
import type { ExecutionView } from "../domain/execution/types";
import type { TargetKind, TargetSettings } from "../domain/notifications/targets";
import type { PipelineDocument } from "../domain/pipeline/document";

/** What an export reads, as stored (engine/installation-archive.ts turns it into the archive). */
export interface ExportRows {
  customTypes: Array<{ definition: ActionTypeDefinition; createdBy: string; createdAt: Date }>;
  pipelines: Array<{ id: string; name: string; version: number; createdBy: string; createdAt: Date }>;
  versions: Array<{
    pipelineId: string;
    version: number;
    document: PipelineDocument;
    createdBy: string;
    createdAt: Date;
  }>;
  webhooks: Array<{ pipelineId: string; createdBy: string; createdAt: Date }>;
  tokens: Array<{
    description: string;
    tokenHash: string;
    createdBy: string;
    createdAt: Date;
    revokedAt: Date | null;
    revokedBy: string | null;
  }>;
  targets: Array<{ name: string; kind: TargetKind; settings: TargetSettings; createdBy: string }>;
  rules: Array<{
    name: string;
    pipelineName: string | null;
    eventTypes: string[];
    filter: InstallationArchive["notificationRules"][number]["filter"];
    detailLevel: "BASIC" | "FULL";
    enabled: boolean;
    createdBy: string;
    targets: string[];
  }>;
  tags: Array<{ pipelineId: string; key: string; value: string }>;
}

export interface ExportedExecutionRow {
  id: string;
  pipelineName: string;
  pipelineVersion: number;
  status: string;
  triggerType: string;
  clientRequestToken: string | null;
  startTime: Date;
  lastUpdateTime: Date;
  sequence: number;
  view: ExecutionView;
  events: Array<{ sequence: number; event: Record<string, unknown> }>;
  actionExecutionIds: string[];
}

type Archived = InstallationArchive;

/** The statements of an installation's export and import (engine/installation-archive.ts). */
export class ArchiveStore {
  constructor(private readonly db: DataSource) {}

  /** `work` in one REPEATABLE READ transaction: everything it reads is one consistent moment. */
  snapshot<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    return this.db.transaction("REPEATABLE READ", work);
  }

  async exportRows(m: EntityManager): Promise<ExportRows> {
    const customTypes: ExportRows["customTypes"] = await m.query(
      `SELECT definition, created_by AS "createdBy", created_at AS "createdAt" FROM custom_action_types
        ORDER BY category, provider, version`,
    );
    const pipelines: ExportRows["pipelines"] = await m.query(
      `SELECT id, name, version, created_by AS "createdBy", created_at AS "createdAt" FROM pipelines WHERE account = 'default' ORDER BY name`,
    );
    const versions: ExportRows["versions"] = await m.query(
      `SELECT pipeline_id AS "pipelineId", version, document, created_by AS "createdBy", created_at AS "createdAt"
         FROM pipeline_versions ORDER BY pipeline_id, version`,
    );
    const webhooks: ExportRows["webhooks"] = await m.query(
      `SELECT pipeline_id AS "pipelineId", created_by AS "createdBy", created_at AS "createdAt" FROM pipeline_webhooks`,
    );
    const tokens: ExportRows["tokens"] = await m.query(
      `SELECT description, token_hash AS "tokenHash", created_by AS "createdBy", created_at AS "createdAt",
              revoked_at AS "revokedAt", revoked_by AS "revokedBy"
         FROM agent_tokens WHERE account = 'default' ORDER BY created_at, id`,
    );
    const targets: ExportRows["targets"] = await m.query(
      `SELECT name, kind, settings, created_by AS "createdBy" FROM notification_targets
        WHERE account = 'default' ORDER BY name`,
    );
    const rules: ExportRows["rules"] = await m.query(
      `SELECT r.name, r.pipeline_name AS "pipelineName", r.event_types AS "eventTypes", r.filter,
              r.detail_level AS "detailLevel", r.enabled, r.created_by AS "createdBy",
              ARRAY(SELECT t.name FROM notification_rule_targets rt JOIN notification_targets t ON t.id = rt.target_id
                     WHERE rt.rule_id = r.id ORDER BY t.name) AS targets
         FROM notification_rules r WHERE r.account = 'default' ORDER BY r.name`,
    );
    const tags: ExportRows["tags"] = await m.query(
      `SELECT pipeline_id AS "pipelineId", key, value FROM pipeline_tags ORDER BY pipeline_id, key`,
    );
    return { customTypes, pipelines, versions, webhooks, tokens, targets, rules, tags };
  }

  /** Executions with one of `statuses`, oldest first, with their events and attempt ids. */
  async executionRows(m: EntityManager, statuses: readonly string[]): Promise<ExportedExecutionRow[]> {
    return m.query(
      `SELECT e.id, p.name AS "pipelineName", e.pipeline_version AS "pipelineVersion", e.status,
              e.trigger_type AS "triggerType", e.client_request_token AS "clientRequestToken",
              e.start_time AS "startTime", e.last_update_time AS "lastUpdateTime", e.sequence, e.view,
              COALESCE((SELECT json_agg(json_build_object('sequence', v.sequence, 'event', v.event) ORDER BY v.sequence)
                          FROM execution_events v WHERE v.execution_id = e.id), '[]') AS events,
              ARRAY(SELECT a.id::text FROM action_executions a WHERE a.execution_id = e.id ORDER BY a.id) AS "actionExecutionIds"
         FROM pipeline_executions e JOIN pipelines p ON p.id = e.pipeline_id
        WHERE e.status = ANY($1) AND p.account = 'default'
        ORDER BY e.start_time, e.id`,
      [statuses],
    );
  }

  /**
   * What of the archive the installation already has, each as `<what> "<value>"`: pipelines,
   * custom action types, agent tokens, notification targets and rules, executions and attempts.
   */
  async clashes(
    m: EntityManager,
    archive: {
      pipelines: string[];
      customActionTypes: string[];
      tokenHashes: string[];
      targets: string[];
      rules: string[];
      executionIds: string[];
    },
  ): Promise<string[]> {
    const clashes: string[] = [];
    const taken = async (sql: string, values: string[], what: string) => {
      if (values.length === 0) return;
      const rows: Array<{ v: string }> = await m.query(sql, [values]);
      for (const row of rows) clashes.push(`${what} ${JSON.stringify(row.v)}`);
    };
    await taken(
      `SELECT name AS v FROM pipelines WHERE account = 'default' AND name = ANY($1)`,
      archive.pipelines,
      "pipeline",
    );
    await taken(
      `SELECT category || '/' || provider || '/' || version AS v FROM custom_action_types
        WHERE category || '/' || provider || '/' || version = ANY($1)`,
      archive.customActionTypes,
      "custom action type",
    );
    await taken(
      `SELECT left(token_hash, 8) AS v FROM agent_tokens WHERE token_hash = ANY($1)`,
      archive.tokenHashes,
      "agent token (digest starting)",
    );
    await taken(
      `SELECT name AS v FROM notification_targets WHERE account = 'default' AND name = ANY($1)`,
      archive.targets,
      "notification target",
    );
    await taken(
      `SELECT name AS v FROM notification_rules WHERE account = 'default' AND name = ANY($1)`,
      archive.rules,
      "notification rule",
    );
    await taken(
      `SELECT id::text AS v FROM pipeline_executions WHERE id = ANY($1::uuid[])
       UNION SELECT id::text FROM action_executions WHERE id = ANY($1::uuid[])`,
      archive.executionIds,
      "execution or action execution",
    );
    return clashes;
  }

  async pipelineCount(m: EntityManager): Promise<number> {
    const [row]: Array<{ count: number }> = await m.query(`SELECT count(*)::int AS count FROM pipelines`);
    return row!.count;
  }

  async insertCustomActionType(
    m: EntityManager,
    definition: ActionTypeDefinition,
    createdBy: string,
    createdAt: string,
  ): Promise<void> {
    const id = definition.id;
    await m.query(
      `INSERT INTO custom_action_types (category, provider, version, definition, created_by, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [id.category, id.provider, id.version, JSON.stringify(definition), createdBy, createdAt],
    );
  }

  /** A pipeline at `document` (its current version), changed last by `updatedBy`; returns its id. */
  async insertPipeline(
    m: EntityManager,
    pipeline: Archived["pipelines"][number],
    document: PipelineDocument,
    updatedBy: string,
  ): Promise<string> {
    const [{ id }] = await m.query<[{ id: string }]>(
      `INSERT INTO pipelines (name, version, document, created_by, updated_by, created_at, updated_at, last_activity_at)
       VALUES ($1, $2, $3, $4, $5, $6, now(), now()) RETURNING id`,
      [
        pipeline.name,
        pipeline.version,
        JSON.stringify(document),
        pipeline.createdBy,
        updatedBy,
        pipeline.createdAt,
      ],
    );
    return id;
  }

  async insertPipelineVersion(
    m: EntityManager,
    pipelineId: string,
    version: { version: number; createdBy: string; createdAt: string },
    document: unknown,
  ): Promise<void> {
    await m.query(
      `INSERT INTO pipeline_versions (pipeline_id, version, document, created_by, created_at) VALUES ($1, $2, $3, $4, $5)`,
      [pipelineId, version.version, JSON.stringify(document), version.createdBy, version.createdAt],
    );
  }

  /** A webhook with this (sealed) secret. */
  async insertWebhook(
    m: EntityManager,
    pipelineId: string,
    sealedSecret: string,
    webhook: { createdBy: string; createdAt: string },
  ): Promise<void> {
    await m.query(
      `INSERT INTO pipeline_webhooks (pipeline_id, secret, created_by, created_at) VALUES ($1, $2, $3, $4)`,
      [pipelineId, sealedSecret, webhook.createdBy, webhook.createdAt],
    );
  }

  async insertTags(
    m: EntityManager,
    pipelineId: string,
    tags: ReadonlyArray<{ key: string; value: string }>,
  ): Promise<void> {
    if (tags.length === 0) return;
    await m.query(
      `INSERT INTO pipeline_tags (pipeline_id, key, value) SELECT $1, key, value FROM unnest($2::text[], $3::text[]) AS t(key, value)`,
      [pipelineId, tags.map((t) => t.key), tags.map((t) => t.value)],
    );
  }

  /** A finished execution with its view, its history and its attempts' ids. */
  async insertExecution(
    m: EntityManager,
    pipelineId: string,
    execution: NonNullable<Archived["executions"]>[number],
  ): Promise<void> {
    await m.query(
      `INSERT INTO pipeline_executions (id, pipeline_id, pipeline_version, status, trigger_type, client_request_token,
                                        start_time, last_update_time, sequence, view)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [
        execution.id,
        pipelineId,
        execution.pipelineVersion,
        execution.status,
        execution.triggerType,
        execution.clientRequestToken,
        execution.startTime,
        execution.lastUpdateTime,
        execution.sequence,
        JSON.stringify(execution.view),
      ],
    );
    await m.query(
      `INSERT INTO execution_events (execution_id, sequence, event)
       SELECT $1, e.sequence, e.event FROM unnest($2::int[], $3::jsonb[]) AS e(sequence, event)`,
      [
        execution.id,
        execution.events.map((e) => e.sequence),
        execution.events.map((e) => JSON.stringify(e.event)),
      ],
    );
    await m.query(
      `INSERT INTO action_executions (id, execution_id, pipeline_id) SELECT a, $2, $3 FROM unnest($1::uuid[]) AS a`,
      [execution.actionExecutionIds, execution.id, pipelineId],
    );
  }

  /** The counts by status /metrics serves (execution_counts) of imported pipelines, counted afresh. */
  async recountExecutions(m: EntityManager, pipelineIds: readonly string[]): Promise<void> {
    await m.query(
      `INSERT INTO execution_counts (pipeline_id, status, count)
       SELECT pipeline_id, status, count(*) FROM pipeline_executions WHERE pipeline_id = ANY($1::uuid[])
        GROUP BY pipeline_id, status
       ON CONFLICT (pipeline_id, status) DO UPDATE SET count = EXCLUDED.count`,
      [pipelineIds],
    );
  }

  async insertAgentToken(m: EntityManager, token: Archived["agentTokens"][number]): Promise<void> {
    await m.query(
      `INSERT INTO agent_tokens (description, token_hash, created_by, created_at, revoked_at, revoked_by)
       VALUES ($1, $2, $3, $4, $5, $6)`,
      [
        token.description,
        token.tokenHash,
        token.createdBy,
        token.createdAt,
        token.revokedAt,
        token.revokedBy,
      ],
    );
  }

  /** A notification target with its (sealed) settings; returns its id. */
  async insertTarget(
    m: EntityManager,
    target: { name: string; kind: string; createdBy: string },
    sealedSettings: unknown,
  ): Promise<string> {
    const [{ id }] = await m.query<[{ id: string }]>(
      `INSERT INTO notification_targets (name, kind, settings, created_by) VALUES ($1, $2, $3, $4) RETURNING id`,
      [target.name, target.kind, JSON.stringify(sealedSettings), target.createdBy],
    );
    return id;
  }

  /** A notification rule sending through `targetIds`; returns its id. */
  async insertRule(
    m: EntityManager,
    rule: Archived["notificationRules"][number],
    enabled: boolean,
    targetIds: Array<string | undefined>,
  ): Promise<string> {
    const [{ id }] = await m.query<[{ id: string }]>(
      `INSERT INTO notification_rules (name, pipeline_name, event_types, filter, detail_level, enabled, created_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
      [
        rule.name,
        rule.pipelineName,
        rule.eventTypes,
        rule.filter === null ? null : JSON.stringify(rule.filter),
        rule.detailLevel,
        enabled,
        rule.createdBy,
      ],
    );
    for (const targetId of targetIds)
      await m.query(`INSERT INTO notification_rule_targets (rule_id, target_id) VALUES ($1, $2)`, [
        id,
        targetId,
      ]);
    return id;
  }
}
