import type { MigrationInterface, QueryRunner } from "typeorm";

/**
 * Tags on pipelines, as CodePipeline has them (domain/pipeline/tags.ts): key/value pairs, keys
 * unique per pipeline, at most 50 a pipeline (checked by the writer, under the pipeline's row
 * lock). A table rather than a column of `pipelines`: tagging writes no new pipeline version and
 * never races a document update; the (key, value) index serves `pipelines(tag:)`.
 */
export class PipelineTags1767600000000 implements MigrationInterface {
  name = "PipelineTags1767600000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE pipeline_tags (
        pipeline_id uuid NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
        key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 128),
        value text NOT NULL CHECK (char_length(value) <= 256),
        PRIMARY KEY (pipeline_id, key)
      )`);
    await q.query(`CREATE INDEX pipeline_tags_key_value_idx ON pipeline_tags (key, value)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE pipeline_tags`);
  }
}
