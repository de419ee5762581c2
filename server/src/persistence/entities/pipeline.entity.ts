import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from "typeorm";
import type { PipelineDocument } from "../../domain/pipeline/document";

/** The current definition of a pipeline; every change also writes a PipelineVersionEntity. */
@Entity({ name: "pipelines" })
@Index("pipelines_activity_idx", ["lastActivityAt", "id"])
@Unique("pipelines_account_name_key", ["account", "name"])
export class PipelineEntity {
  @PrimaryGeneratedColumn("uuid")
  id!: string;

  /** The account (tenant) it belongs to; its name is unique in it. */
  @Column({ type: "text", default: "default" })
  account!: string;

  @Column({ type: "text" })
  name!: string;

  @Column({ type: "integer" })
  version!: number;

  /** `json`, not `jsonb`: keeps the key order the user wrote. */
  @Column({ type: "json" })
  document!: PipelineDocument;

  @Column({ name: "created_by", type: "text" })
  createdBy!: string;

  @Column({ name: "updated_by", type: "text" })
  updatedBy!: string;

  @Column({ name: "created_at", type: "timestamptz" })
  createdAt!: Date;

  @Column({ name: "updated_at", type: "timestamptz" })
  updatedAt!: Date;

  /** Last definition change or execution event: the order of the `pipelines` list. */
  @Column({ name: "last_activity_at", type: "timestamptz" })
  lastActivityAt!: Date;
}
