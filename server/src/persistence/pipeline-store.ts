import type { DataSource, EntityManager } from "typeorm";
import type { ActionTypeDefinition } from "../domain/action-types/action-type";
import { CustomActionTypeEntity } from "./entities/custom-action-type.entity";
import { PipelineVersionEntity } from "./entities/pipeline-version.entity";
import { PipelineEntity } from "./entities/pipeline.entity";
import { cursorArgument, decodeCursor, encodeCursor, exactTime, type PageQuery } from "./cursor";
import type { Tag } from "../domain/pipeline/tags";
import type { PipelineDocument } from "../domain/pipeline/document";
import type { StoredExecution } from "../domain/execution/stored";

/** `pipelines(tag:)`: pipelines holding the key, with this value when one is given. */
export interface TagFilter {
  key: string;
  value?: string | null;
}

/** The SQL condition of a tag filter on pipelines aliased `p`, its parameters named :tagKey, :tagValue. */
function tagCondition(filter: TagFilter): { sql: string; params: Record<string, string> } {
  const withValue = filter.value !== undefined && filter.value !== null;
  return {
    sql: `EXISTS (SELECT 1 FROM pipeline_tags t WHERE t.pipeline_id = p.id AND t.key = :tagKey${withValue ? " AND t.value = :tagValue" : ""})`,
    params: withValue ? { tagKey: filter.key, tagValue: filter.value! } : { tagKey: filter.key },
  };
}

/** Reads of pipeline definitions; writes happen in the engine's transactions. */
export class PipelineStore {
  constructor(private readonly db: DataSource) {}

  /** The pipeline of this name in this account (names are unique per account). */
  findByName(
    account: string,
    name: string,
    manager: EntityManager = this.db.manager,
  ): Promise<PipelineEntity | null> {
    return manager.findOneBy(PipelineEntity, { account, name });
  }

  findById(id: string, manager: EntityManager = this.db.manager): Promise<PipelineEntity | null> {
    return manager.findOneBy(PipelineEntity, { id });
  }

  findVersion(pipelineId: string, version: number): Promise<PipelineVersionEntity | null> {
    return this.db.manager.findOneBy(PipelineVersionEntity, { pipelineId, version });
  }

  /**
   * Newest activity first; keyset pagination on (lastActivityAt, id): `page.size + 1` rows from
   * the cursor on (backward: the rows before it, nearest first), each with its cursor.
   */
  async pageByActivity(
    account: string,
    page: PageQuery,
    tag: TagFilter | null = null,
  ): Promise<Array<{ entity: PipelineEntity; cursor: string }>> {
    const direction = page.backward ? "ASC" : "DESC";
    const compare = page.backward ? ">" : "<";
    const query = this.db.manager
      .createQueryBuilder(PipelineEntity, "p")
      .addSelect(exactTime("p.last_activity_at"), "cursor_at")
      .where("p.account = :account", { account })
      .orderBy("p.lastActivityAt", direction)
      .addOrderBy("p.id", direction)
      .limit(page.size + 1);
    if (tag) {
      const { sql, params } = tagCondition(tag);
      query.andWhere(sql, params);
    }
    if (page.cursor) {
      const [at, id] = decodeCursor<[string, string]>(page.cursor, ["time", "uuid"], cursorArgument(page));
      query.andWhere(`(p.last_activity_at, p.id) ${compare} (CAST(:at AS timestamptz), CAST(:id AS uuid))`, {
        at,
        id,
      });
    }
    const { entities, raw } = await query.getRawAndEntities<{ cursor_at: string }>();
    return entities.map((entity, i) => ({ entity, cursor: encodeCursor([raw[i]!.cursor_at, entity.id]) }));
  }

  /**
   * The names of every pipeline of an account, or of those a tag filter keeps (for counting those a
   * caller may list).
   */
  async names(account: string, tag: TagFilter | null = null): Promise<string[]> {
    const query = this.db.manager
      .createQueryBuilder(PipelineEntity, "p")
      .select("p.name", "name")
      .where("p.account = :account", { account });
    if (tag) {
      const { sql, params } = tagCondition(tag);
      query.andWhere(sql, params);
    }
    const rows = await query.getRawMany<{ name: string }>();
    return rows.map((r) => r.name);
  }

  /** A pipeline's tags, by key. */
  async tags(pipelineId: string, manager: EntityManager = this.db.manager): Promise<Tag[]> {
    return manager.query(`SELECT key, value FROM pipeline_tags WHERE pipeline_id = $1 ORDER BY key`, [
      pipelineId,
    ]);
  }

  /** Newest version first. Fetches `page.size + 1` rows (backward: the older ones before the cursor). */
  async pageVersions(pipelineId: string, page: PageQuery): Promise<PipelineVersionEntity[]> {
    const query = this.db.manager
      .createQueryBuilder(PipelineVersionEntity, "v")
      .where("v.pipeline_id = :pipelineId", { pipelineId })
      .orderBy("v.version", page.backward ? "ASC" : "DESC")
      .limit(page.size + 1);
    if (page.cursor) {
      const [version] = decodeCursor<[number]>(page.cursor, ["number"], cursorArgument(page));
      query.andWhere(`v.version ${page.backward ? ">" : "<"} :version`, { version });
    }
    return query.getMany();
  }

  countVersions(pipelineId: string): Promise<number> {
    return this.db.manager.countBy(PipelineVersionEntity, { pipelineId });
  }

  static versionCursor(version: PipelineVersionEntity): string {
    return encodeCursor([version.version]);
  }

  async customActionTypes(manager: EntityManager = this.db.manager): Promise<ActionTypeDefinition[]> {
    const rows = await manager.find(CustomActionTypeEntity, {
      order: { category: "ASC", provider: "ASC", version: "ASC" },
    });
    return rows.map((row) => row.definition);
  }

  /** Names of the pipelines whose current document uses an action type. */
  async pipelinesUsingActionType(
    id: { category: string; owner: string; provider: string; version: string },
    manager: EntityManager = this.db.manager,
  ): Promise<string[]> {
    const rows: Array<{ name: string }> = await manager.query(
      `SELECT name FROM pipelines
        WHERE jsonb_path_exists(document::jsonb, '$.stages[*].actions[*].actionTypeId ? (@.category == $c && @.owner == $o && @.provider == $p && @.version == $v)',
                                jsonb_build_object('c', $1::text, 'o', $2::text, 'p', $3::text, 'v', $4::text))
        ORDER BY name`,
      [id.category, id.owner, id.provider, id.version],
    );
    return rows.map((row) => row.name);
  }

  /**
   * The stored record of the execution that holds job `jobId` (null once the runtime no longer
   * holds it) and the document it pinned; null when no execution has the job.
   */
  async executionOfJob(
    jobId: string,
  ): Promise<{ execution: StoredExecution | null; document: PipelineDocument; account: string } | null> {
    const rows: Array<{ execution: StoredExecution | null; document: PipelineDocument; account: string }> =
      await this.db.query(
        `SELECT e.runtime AS execution, v.document, p.account
         FROM action_executions a JOIN pipeline_executions e ON e.id = a.execution_id
         JOIN pipeline_versions v ON v.pipeline_id = e.pipeline_id AND v.version = e.pipeline_version
         JOIN pipelines p ON p.id = e.pipeline_id
        WHERE a.id = $1`,
        [jobId],
      );
    return rows[0] ?? null;
  }

  /**
   * For the job artifact routes (engine/job-leases.ts), in one round trip: the job's execution record
   * and document, and the agent (with its token) whose lease timer `leaseKey` is there. A lease ends
   * when the engine fires its timer (in the transaction that ends the attempt), not when its time
   * passes: while PostgreSQL or NATS was away, heartbeats could not move it, and the engine judges it
   * only once the results stored meanwhile are applied (docs/failure-model.md).
   */
  async jobLease(
    jobId: string,
    leaseKey: string,
  ): Promise<{
    execution: StoredExecution | null;
    document: PipelineDocument;
    /** The pipeline's account. */
    account: string;
    leaseAgentId: string | null;
    leaseTokenId: string | null;
  } | null> {
    const rows: Array<{
      execution: StoredExecution | null;
      document: PipelineDocument;
      account: string;
      leaseAgentId: string | null;
      leaseTokenId: string | null;
    }> = await this.db.query(
      `SELECT e.runtime AS execution, v.document, p.account, l.agent_id AS "leaseAgentId", l.token_id AS "leaseTokenId"
         FROM action_executions a JOIN pipeline_executions e ON e.id = a.execution_id
         JOIN pipelines p ON p.id = e.pipeline_id
         JOIN pipeline_versions v ON v.pipeline_id = e.pipeline_id AND v.version = e.pipeline_version
         LEFT JOIN LATERAL (
           SELECT t.agent_id, g.token_id FROM timers t JOIN agents g ON g.id = t.agent_id
            WHERE t.key = $2) l ON true
        WHERE a.id = $1`,
      [jobId, leaseKey],
    );
    return rows[0] ?? null;
  }

  /** Sets tags on the pipeline: new keys are added, existing ones take the new value. */
  async writeTags(m: EntityManager, pipelineId: string, tags: readonly Tag[]): Promise<void> {
    if (tags.length === 0) return;
    await m.query(
      `INSERT INTO pipeline_tags (pipeline_id, key, value)
       SELECT $1, key, value FROM unnest($2::text[], $3::text[]) AS t(key, value)
       ON CONFLICT (pipeline_id, key) DO UPDATE SET value = EXCLUDED.value`,
      [pipelineId, tags.map((t) => t.key), tags.map((t) => t.value)],
    );
  }

  async deleteTags(m: EntityManager, pipelineId: string, keys: readonly string[]): Promise<void> {
    await m.query(`DELETE FROM pipeline_tags WHERE pipeline_id = $1 AND key = ANY($2::text[])`, [
      pipelineId,
      keys,
    ]);
  }

  /** Locks the pipeline's runtime row (the engine's lock order: the runtime first, then the pipeline). */
  async lockRuntime(m: EntityManager, pipelineId: string): Promise<void> {
    await m.query(`SELECT 1 FROM pipeline_runtimes WHERE pipeline_id = $1 FOR UPDATE`, [pipelineId]);
  }

  /** The pipeline named `name`, its row locked for update until the transaction ends; null when none is. */
  async lockByName(m: EntityManager, account: string, name: string): Promise<PipelineEntity | null> {
    return m
      .createQueryBuilder(PipelineEntity, "p")
      .setLock("pessimistic_write")
      .where("p.account = :account AND p.name = :name", { account, name })
      .getOne();
  }

  /** The id of the pipeline named `name`, its row locked for update; null when none is. */
  async lockIdByName(m: EntityManager, account: string, name: string): Promise<{ id: string } | null> {
    const [row] = await m.query<Array<{ id: string }>>(
      `SELECT id FROM pipelines WHERE account = $1 AND name = $2 FOR UPDATE`,
      [account, name],
    );
    return row ?? null;
  }

  async deletePipeline(m: EntityManager, pipelineId: string): Promise<void> {
    await m.delete(PipelineEntity, { id: pipelineId });
  }

  /** Whether there was such a custom action type to delete. */
  async deleteCustomActionType(
    m: EntityManager,
    id: { category: string; provider: string; version: string },
  ): Promise<boolean> {
    const result = await m.delete(CustomActionTypeEntity, {
      category: id.category,
      provider: id.provider,
      version: id.version,
    });
    return Boolean(result.affected);
  }

  async pipelineCount(m: EntityManager): Promise<number> {
    return m.count(PipelineEntity);
  }

  /** A new pipeline row (a unique violation when the name is taken). */
  async insertPipeline(
    m: EntityManager,
    fields: Pick<
      PipelineEntity,
      | "account"
      | "name"
      | "version"
      | "document"
      | "createdBy"
      | "updatedBy"
      | "createdAt"
      | "updatedAt"
      | "lastActivityAt"
    >,
  ): Promise<PipelineEntity> {
    return m.save(m.create(PipelineEntity, fields));
  }

  /** The pipeline with `changes` applied and saved. */
  async updatePipeline(
    m: EntityManager,
    current: PipelineEntity,
    changes: Partial<
      Pick<PipelineEntity, "version" | "document" | "updatedBy" | "updatedAt" | "lastActivityAt">
    >,
  ): Promise<PipelineEntity> {
    const updated = m.merge<PipelineEntity>(PipelineEntity, current, changes);
    await m.save(updated);
    return updated;
  }

  async insertVersion(
    m: EntityManager,
    fields: Pick<PipelineVersionEntity, "pipelineId" | "version" | "document" | "createdBy" | "createdAt">,
  ): Promise<void> {
    await m.save(m.create(PipelineVersionEntity, fields));
  }

  async customActionTypeExists(
    m: EntityManager,
    id: { category: string; provider: string; version: string },
  ): Promise<boolean> {
    return m.existsBy(CustomActionTypeEntity, {
      category: id.category,
      provider: id.provider,
      version: id.version,
    });
  }

  async customActionTypeCount(m: EntityManager): Promise<number> {
    return m.count(CustomActionTypeEntity);
  }

  async insertCustomActionType(
    m: EntityManager,
    fields: Pick<
      CustomActionTypeEntity,
      "category" | "provider" | "version" | "definition" | "createdBy" | "createdAt"
    >,
  ): Promise<void> {
    await m.save(m.create(CustomActionTypeEntity, fields));
  }
}
