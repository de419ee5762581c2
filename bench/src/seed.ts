import crypto from "node:crypto";
import { Client } from "pg";
import type { GraphQLHttpClient } from "./gql";
import { log } from "./env";
import { sleep } from "./stats";

/**
 * Realistic data for the query benchmarks, in two steps: template pipelines run through the real
 * engine (GraphQL mutations, jobs answered over NATS), then copied in bulk with SQL.
 */

const STAGES: Record<number, string[]> = {
  2: ["Source", "Build"],
  4: ["Source", "Build", "Test", "Production"],
  8: ["Source", "Build", "Test", "Package", "Staging", "Verify", "Production", "Monitor"],
};

type Category = "Build" | "Test" | "Deploy";
const STAGE_ACTIONS: Record<string, { category: Category; actions: [string, string]; serial: boolean }> = {
  Build: { category: "Build", actions: ["Compile", "Lint"], serial: false },
  Test: { category: "Test", actions: ["Unit", "Integration"], serial: true },
  Package: { category: "Build", actions: ["Image", "Sbom"], serial: false },
  Staging: { category: "Deploy", actions: ["DeployStaging", "Smoke"], serial: true },
  Verify: { category: "Test", actions: ["EndToEnd", "Performance"], serial: false },
  Production: { category: "Deploy", actions: ["DeployProduction", "Announce"], serial: true },
  Monitor: { category: "Test", actions: ["Alarms", "Dashboards"], serial: false },
};

const type = (category: string, provider: string) => ({ category, owner: "Sluice", provider, version: "1" });

/** A pipeline of `stages` stages (2, 4 or 8) of two actions each: two Git sources, then Shell actions. */
export function templateDocument(name: string, stages: number): Record<string, unknown> {
  const names = STAGES[stages];
  if (!names) throw new Error(`no template with ${stages} stages`);
  return {
    name,
    executionMode: "SUPERSEDED",
    variables: [
      { name: "Env", defaultValue: "staging", description: "where to deploy" },
      { name: "Outcome", defaultValue: "pass", description: "bench: `fail` fails the tests" },
    ],
    stages: names.map((stageName) => {
      if (stageName === "Source") {
        return {
          name: "Source",
          actions: [
            {
              name: "App",
              actionTypeId: type("Source", "Git"),
              configuration: { Repository: "https://git.example/shop/app.git", Branch: "main" },
              outputArtifacts: [{ name: "AppSrc" }],
              namespace: "AppVars",
            },
            {
              name: "Config",
              actionTypeId: type("Source", "Git"),
              configuration: { Repository: "https://git.example/shop/config.git", Branch: "main" },
              outputArtifacts: [{ name: "ConfigSrc" }],
              namespace: "ConfigVars",
            },
          ],
        };
      }
      const spec = STAGE_ACTIONS[stageName]!;
      const built = names.indexOf("Build") < names.indexOf(stageName);
      return {
        name: stageName,
        actions: spec.actions.map((actionName, index) => ({
          name: actionName,
          actionTypeId: type(spec.category, "Shell"),
          runOrder: spec.serial ? index + 1 : 1,
          configuration: {
            Commands:
              stageName === "Test" && index === 0
                ? "make test OUTCOME=#{variables.Outcome}"
                : `make ${actionName.toLowerCase()} COMMIT=#{AppVars.CommitId} ENV=#{variables.Env}`,
          },
          inputArtifacts:
            stageName === "Build"
              ? [{ name: "AppSrc" }, { name: "ConfigSrc" }]
              : [{ name: built ? "BuildOut" : "AppSrc" }],
          outputArtifacts: stageName === "Build" && index === 0 ? [{ name: "BuildOut" }] : [],
        })),
      };
    }),
  };
}

const CREATE = `mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`;
const RELEASE = `mutation ($name: String!, $revisions: [SourceRevisionInput!], $variables: [PipelineVariableOverride!]) {
  releaseChange(pipelineName: $name, sourceRevisions: $revisions, variables: $variables) { id } }`;
const TOGGLE = `mutation ($name: String!, $stage: String!) {
  toggleTransition(pipelineName: $name, stageName: $stage, enabled: false, reason: "change freeze") { enabled } }`;
const LATEST = `query ($name: String!) { pipeline(name: $name) { executions(first: 1) { nodes { id status currentStage { stageName entered } } } } }`;

interface Latest {
  pipeline: {
    executions: { nodes: Array<{ id: string; status: string; currentStage: { entered: boolean } | null }> };
  };
}

async function settle(
  gql: GraphQLHttpClient,
  name: string,
  done: (e: Latest["pipeline"]["executions"]["nodes"][number]) => boolean,
) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const latest = (await gql.data<Latest>(LATEST, { name })).pipeline.executions.nodes[0];
    if (latest && done(latest)) return latest;
    if (Date.now() > deadline)
      throw new Error(`${name}: execution did not settle: ${JSON.stringify(latest)}`);
    await sleep(50);
  }
}

const finished = (e: { status: string }) => ["Succeeded", "Failed", "Stopped"].includes(e.status);

/**
 * Creates `name` and runs six executions through the engine, as a pipeline has after a while:
 * four that succeeded (the pipeline's own first one, then three releases with source revisions),
 * one whose tests failed, and one waiting at the last stage behind a disabled transition.
 */
export async function runTemplate(gql: GraphQLHttpClient, name: string, stages: number): Promise<void> {
  const document = templateDocument(name, stages);
  await gql.data(CREATE, { input: document });
  await settle(gql, name, finished);
  const revisions = (n: number) => [
    {
      actionName: "App",
      revisionId: crypto.createHash("sha1").update(`${name}-app-${n}`).digest("hex"),
      revisionSummary: `Release ${n}: faster checkout`,
      revisionUrl: `https://git.example/shop/app/commit/${n}`,
    },
  ];
  for (let n = 1; n <= 3; n++) {
    await gql.data(RELEASE, { name, revisions: revisions(n), variables: [] });
    await settle(gql, name, finished);
  }
  const hasTests = (document.stages as Array<{ name: string }>).some((s) => s.name === "Test");
  await gql.data(RELEASE, {
    name,
    revisions: revisions(4),
    variables: hasTests ? [{ name: "Outcome", value: "fail" }] : [{ name: "Env", value: "qa" }],
  });
  await settle(gql, name, finished);
  const lastStage = (document.stages as Array<{ name: string }>).at(-1)!.name;
  await gql.data(TOGGLE, { name, stage: lastStage });
  await gql.data(RELEASE, { name, revisions: revisions(5), variables: [] });
  await settle(gql, name, (e) => e.status === "InProgress" && e.currentStage?.entered === false);
}

const UUID = /[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/g;

/** The id a copy gets: the template id with its first 8 hex digits made from (pipeline, copy). */
const copyPrefix = (pipeline: number, copy: number) => (pipeline * 128 + copy).toString(16).padStart(8, "0");

export interface SeedSummary {
  pipelines: number;
  executionsPerPipeline: number;
  executions: number;
  actionExecutions: number;
  runtimes: number;
  seconds: number;
}

/**
 * Copies pipeline `template` (with its versions, executions, action executions and runtime)
 * `pipelines` times as `bench-0000`..., each with `perPipeline` executions: the template's
 * executions repeated in order, older blocks shifted back a day each, the newest block exactly
 * the template's, so that the runtime's stage pointers (copied with the ids mapped the same way)
 * point at the newest copies. The execution history (execution_events) is not copied: neither
 * benchmarked query reads it.
 */
export async function copyTemplate(
  databaseUrl: string,
  template: string,
  pipelines: number,
  perPipeline: number,
): Promise<SeedSummary> {
  const started = Date.now();
  const db = new Client({ connectionString: databaseUrl });
  db.on("error", () => undefined); // the database may be dropped under it when the bench is interrupted
  await db.connect();
  try {
    const templateName = JSON.stringify(template);
    const executions = (
      await db.query<{ id: string }>(
        `SELECT e.id FROM pipeline_executions e JOIN pipelines p ON p.id = e.pipeline_id
          WHERE p.name = $1 ORDER BY e.start_time, e.id`,
        [template],
      )
    ).rows.map((r) => r.id);
    const count = executions.length;
    if (count === 0 || count > perPipeline) throw new Error(`template ${template} has ${count} executions`);
    const shift = (count - (perPipeline % count)) % count;
    await db.query("BEGIN");
    await db.query(
      `CREATE TEMP TABLE tmpl_exec ON COMMIT DROP AS
         SELECT (row_number() OVER (ORDER BY e.start_time, e.id) - 1)::int AS idx, e.*
           FROM pipeline_executions e JOIN pipelines p ON p.id = e.pipeline_id WHERE p.name = $1`,
      [template],
    );
    await db.query(
      `INSERT INTO pipelines (name, version, document, created_by, updated_by, created_at, updated_at, last_activity_at)
       SELECT 'bench-' || lpad(n::text, 4, '0'), t.version,
              replace(t.document::text, $2, '"bench-' || lpad(n::text, 4, '0') || '"')::json,
              t.created_by, t.updated_by, t.created_at, t.updated_at, t.last_activity_at - make_interval(secs => n)
         FROM pipelines t, generate_series(0, $3::int - 1) n WHERE t.name = $1`,
      [template, templateName, pipelines],
    );
    await db.query(
      `CREATE TEMP TABLE bench_p ON COMMIT DROP AS
         SELECT id, name, substr(name, 7)::int AS n FROM pipelines WHERE name LIKE 'bench-%'`,
    );
    await db.query(
      `INSERT INTO pipeline_versions (pipeline_id, version, document, created_by, created_at)
       SELECT b.id, v.version, replace(v.document::text, $2, '"' || b.name || '"')::json, v.created_by, v.created_at
         FROM pipeline_versions v JOIN pipelines t ON t.id = v.pipeline_id AND t.name = $1 CROSS JOIN bench_p b`,
      [template, templateName],
    );
    const prefix = `lpad(to_hex(b.n * 128 + k), 8, '0')`;
    const copies = `bench_p b CROSS JOIN generate_series(0, $1::int - 1) k
      JOIN tmpl_exec te ON te.idx = (k + $2::int) % $3::int`;
    const inserted = await db.query(
      `INSERT INTO pipeline_executions (id, pipeline_id, pipeline_version, status, trigger_type, client_request_token,
         start_time, last_update_time, sequence, view, runtime)
       SELECT (${prefix} || substr(te.id::text, 9))::uuid, b.id, te.pipeline_version, te.status, te.trigger_type, NULL,
              te.start_time - make_interval(days => ($1::int - 1 - k) / $3::int),
              te.last_update_time - make_interval(days => ($1::int - 1 - k) / $3::int),
              te.sequence,
              regexp_replace(replace(te.view::text, $4, '"' || b.name || '"'),
                '[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})', ${prefix} || '\\1', 'g')::jsonb,
              -- the runtime holds the newest copy of each template execution (see below)
              CASE WHEN te.runtime IS NOT NULL AND k >= $1::int - $3::int THEN
                regexp_replace(replace(te.runtime::text, $4, '"' || b.name || '"'),
                  '[0-9a-f]{8}(-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})', ${prefix} || '\\1', 'g')::jsonb
              END
         FROM ${copies}`,
      [perPipeline, shift, count, templateName],
    );
    const actions = await db.query(
      `INSERT INTO action_executions (id, execution_id, pipeline_id)
       SELECT (${prefix} || substr(a.id::text, 9))::uuid, (${prefix} || substr(te.id::text, 9))::uuid, b.id
         FROM ${copies} JOIN action_executions a ON a.execution_id = te.id`,
      [perPipeline, shift, count],
    );
    // The coordination records: each template id becomes the id of the newest copy of its execution.
    const owner = new Map<string, number>(executions.map((id, idx) => [id, idx]));
    const templateActions = await db.query<{ id: string; execution_id: string }>(
      `SELECT a.id, a.execution_id FROM action_executions a JOIN tmpl_exec te ON te.id = a.execution_id`,
    );
    for (const a of templateActions.rows) owner.set(a.id, owner.get(a.execution_id)!);
    const runtime = await db.query<{ state: string; updated_at: Date }>(
      `SELECT r.state::text AS state, r.updated_at FROM pipeline_runtimes r JOIN pipelines p ON p.id = r.pipeline_id
        WHERE p.name = $1`,
      [template],
    );
    const state = runtime.rows[0]!.state;
    const benchPipelines = (await db.query<{ id: string; name: string; n: number }>(`SELECT * FROM bench_p`))
      .rows;
    let unknownIds = 0;
    const states = benchPipelines.map((b) =>
      state.replaceAll(templateName, JSON.stringify(b.name)).replace(UUID, (id, rest: string) => {
        const idx = owner.get(id);
        if (idx === undefined) {
          unknownIds++;
          return id;
        }
        return copyPrefix(b.n, perPipeline - count + idx) + rest;
      }),
    );
    if (unknownIds > 0) log(`seed: ${unknownIds} ids in the runtime belong to no template execution`);
    await db.query(
      `INSERT INTO pipeline_runtimes (pipeline_id, state, updated_at)
       SELECT * FROM unnest($1::uuid[], $2::jsonb[], $3::timestamptz[])`,
      [benchPipelines.map((b) => b.id), states, benchPipelines.map(() => runtime.rows[0]!.updated_at)],
    );
    // The counts by status the engine keeps for /metrics (execution_counts), of the copies.
    await db.query(
      `INSERT INTO execution_counts (pipeline_id, status, count)
       SELECT e.pipeline_id, e.status, count(*) FROM pipeline_executions e JOIN bench_p b ON b.id = e.pipeline_id
        GROUP BY 1, 2`,
    );
    await db.query("COMMIT");
    await db.query("VACUUM ANALYZE");
    // The copies' writes flushed now, not by a checkpoint in the middle of the measurement (needs a
    // superuser or pg_checkpoint; without it the measurement may meet that checkpoint).
    await db.query("CHECKPOINT").catch((error: Error) => log(`seed: no CHECKPOINT (${error.message})`));
    return {
      pipelines,
      executionsPerPipeline: perPipeline,
      executions: inserted.rowCount ?? 0,
      actionExecutions: actions.rowCount ?? 0,
      runtimes: benchPipelines.length,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } catch (error) {
    await db.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    await db.end();
  }
}
