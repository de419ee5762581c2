import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from "typeorm";
import type { PipelineDocument } from "../../domain/pipeline/document";
import { PipelineEntity } from "./pipeline.entity";

/** One immutable version of a pipeline's document: who wrote it and when. */
@Entity({ name: "pipeline_versions" })
export class PipelineVersionEntity {
  @PrimaryColumn({ name: "pipeline_id", type: "uuid" })
  pipelineId!: string;

  @PrimaryColumn({ type: "integer" })
  version!: number;

  /** `json`, not `jsonb`: keeps the key order the user wrote. */
  @Column({ type: "json" })
  document!: PipelineDocument;

  @Column({ name: "created_by", type: "text" })
  createdBy!: string;

  @Column({ name: "created_at", type: "timestamptz" })
  createdAt!: Date;

  @ManyToOne(() => PipelineEntity, { onDelete: "CASCADE" })
  @JoinColumn({ name: "pipeline_id" })
  pipeline?: PipelineEntity;
}
