import type { DataSource, EntityManager } from "typeorm";
import type { ActionTypeDefinition } from "../domain/action-types/action-type";
import { CustomActionTypeEntity } from "./entities/custom-action-type.entity";
import { PipelineVersionEntity } from "./entities/pipeline-version.entity";
import { PipelineEntity } from "./entities/pipeline.entity";
import { decodeCursor, encodeCursor } from "./cursor";

/** Reads of pipeline definitions; writes happen in the engine's transactions. */
export class PipelineStore {
  constructor(private readonly db: DataSource) {}

  findByName(name: string, manager: EntityManager = this.db.manager): Promise<PipelineEntity | null> {
    return manager.findOneBy(PipelineEntity, { name });
  }

  findById(id: string, manager: EntityManager = this.db.manager): Promise<PipelineEntity | null> {
    return manager.findOneBy(PipelineEntity, { id });
  }

  findVersion(pipelineId: string, version: number): Promise<PipelineVersionEntity | null> {
    return this.db.manager.findOneBy(PipelineVersionEntity, { pipelineId, version });
  }

  /** Newest activity first; keyset pagination on (lastActivityAt, id). Fetches `first + 1` rows. */
  async pageByActivity(first: number, after: string | null): Promise<PipelineEntity[]> {
    const query = this.db.manager
      .createQueryBuilder(PipelineEntity, "p")
      .orderBy("p.lastActivityAt", "DESC")
      .addOrderBy("p.id", "DESC")
      .limit(first + 1);
    if (after) {
      const [at, id] = decodeCursor<[string, string]>(after, ["string", "string"]);
      query.where("(p.last_activity_at, p.id) < (:at, :id)", { at: new Date(at), id });
    }
    return query.getMany();
  }

  static activityCursor(pipeline: PipelineEntity): string {
    return encodeCursor([pipeline.lastActivityAt.toISOString(), pipeline.id]);
  }

  /** Newest version first. Fetches `first + 1` rows. */
  async pageVersions(
    pipelineId: string,
    first: number,
    after: string | null,
  ): Promise<PipelineVersionEntity[]> {
    const query = this.db.manager
      .createQueryBuilder(PipelineVersionEntity, "v")
      .where("v.pipeline_id = :pipelineId", { pipelineId })
      .orderBy("v.version", "DESC")
      .limit(first + 1);
    if (after) {
      const [version] = decodeCursor<[number]>(after, ["number"]);
      query.andWhere("v.version < :version", { version });
    }
    return query.getMany();
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
}
