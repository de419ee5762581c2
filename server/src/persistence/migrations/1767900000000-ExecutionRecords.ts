import type { MigrationInterface, QueryRunner } from "typeorm";
import { decodeCoordination, splitRuntime } from "../../domain/execution/stored";
import type { PipelineRuntime } from "../../domain/execution/types";

/**
 * The runtime split in two (domain/execution/stored.ts): `pipeline_runtimes.state` keeps the
 * pipeline's coordination record, and each execution the runtime holds gets its own record in
 * `pipeline_executions.runtime`, without the document it pinned (read from `pipeline_versions` by
 * its version). `revision` grows with every decision written, so that a server copy can tell its
 * cached runtime is current without reading the executions again. Existing runtimes (version 1:
 * one value with every execution and its document) are split here.
 */
export class ExecutionRecords1767900000000 implements MigrationInterface {
  name = "ExecutionRecords1767900000000";

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE pipeline_runtimes ADD COLUMN revision bigint NOT NULL DEFAULT 0`);
    await q.query(`ALTER TABLE pipeline_executions ADD COLUMN runtime jsonb`);
    await q.query(
      `CREATE INDEX pipeline_executions_runtime_idx ON pipeline_executions (pipeline_id) WHERE runtime IS NOT NULL`,
    );
    const runtimes: Array<{ pipeline_id: string; state: PipelineRuntime }> = await q.query(
      `SELECT pipeline_id, state FROM pipeline_runtimes`,
    );
    for (const row of runtimes) {
      if (!row.state.executions) continue;
      const { coordination, executions } = splitRuntime(row.state);
      for (const execution of executions)
        await q.query(`UPDATE pipeline_executions SET runtime = $2 WHERE id = $1`, [
          execution.executionId,
          JSON.stringify(execution),
        ]);
      await q.query(
        `UPDATE pipeline_runtimes SET state = $2, revision = revision + 1 WHERE pipeline_id = $1`,
        [row.pipeline_id, JSON.stringify(decodeCoordination(coordination))],
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    const runtimes: Array<{ pipeline_id: string; state: Record<string, unknown> }> = await q.query(
      `SELECT pipeline_id, state FROM pipeline_runtimes`,
    );
    for (const row of runtimes) {
      const { schemaVersion: _version, ...shared } = row.state;
      await q.query(
        `UPDATE pipeline_runtimes r SET state = $2::jsonb || jsonb_build_object('executions', coalesce((
           SELECT jsonb_object_agg(pe.id::text, (pe.runtime - 'schemaVersion') || jsonb_build_object('document', v.document))
             FROM pipeline_executions pe
             JOIN pipeline_versions v ON v.pipeline_id = pe.pipeline_id AND v.version = pe.pipeline_version
            WHERE pe.pipeline_id = r.pipeline_id AND pe.runtime IS NOT NULL), '{}'::jsonb))
          WHERE pipeline_id = $1`,
        [row.pipeline_id, JSON.stringify(shared)],
      );
    }
    await q.query(`DROP INDEX pipeline_executions_runtime_idx`);
    await q.query(`ALTER TABLE pipeline_executions DROP COLUMN runtime`);
    await q.query(`ALTER TABLE pipeline_runtimes DROP COLUMN revision`);
  }
}
