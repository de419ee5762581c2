import { Client } from "pg";
import { log, machineFacts } from "./env";
import { GraphQLHttpClient } from "./gql";
import { OthersCpu, waitForQuiet } from "./quiet";
import type { BenchResult } from "./results";
import { copyTemplate, runTemplate } from "./seed";
import { startInProcessServer } from "./server";
import { COUNT_HEADER, SqlCounter } from "./sql-counter";
import { summarize } from "./stats";
import { GIT, JobResponder, SHELL } from "./worker";

export interface QueryOptions {
  pipelines: number;
  executionsPerPipeline: number;
  requests: number;
}

export const STATE_QUERY = `query ($name: String!) { pipeline(name: $name) { name state { stages { name
  inboundTransition { enabled } latestExecution { executionId status } waitingExecutions { executionId }
  actions { name latestExecution { status summary lastStatusChange } } } } } }`;

export const EXECUTION_QUERY = `query ($id: ID!) { pipelineExecution(id: $id) { id pipelineName status statusSummary
  startTime endTime trigger { triggerType triggerDetail } sourceRevisions { actionName revisionId revisionSummary }
  stages { name status startTime endTime actions { id name status summary attempt startTime endTime } } } }`;

interface StateData {
  pipeline: {
    state: {
      stages: Array<{ latestExecution: { executionId: string } | null; waitingExecutions: unknown[] }>;
    };
  } | null;
}

/**
 * The statements that load the caller (its user, groups and policies): made by one request in
 * AUTH_CACHE_TTL_MS (3 s) per principal, whatever the query, so counted apart from the query's own.
 */
const PRINCIPAL_LOAD =
  /\b(identity_users|identity_groups|identity_group_members|policy_attachments|identity_policies|api_tokens|role_sessions)\b/;

interface Measured {
  latencyMs: ReturnType<typeof summarize>;
  /** Requests that also loaded the caller's principal (once per principal every 3 s). */
  principalLoads: number;
  /** Of each request's time, waiting for PostgreSQL (sending each statement to having its rows). */
  sqlMs: ReturnType<typeof summarize>;
  statementsPerRequest: { min: number; max: number; mean: number };
  statements: Array<{ text: string; perRequest: number }>;
}

const randomOf = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;

/** Answers the template pipelines' jobs (seed.ts runTemplate): sources with a commit, the rest done. */
export function templateResponder(prefix: string): Promise<JobResponder> {
  return JobResponder.start(prefix, [GIT, SHELL("Build"), SHELL("Test"), SHELL("Deploy")], (job) =>
    job.actionTypeId.category === "Source"
      ? {
          outcome: "Succeeded",
          summary: `Fetched ${job.jobId.slice(0, 7)}`,
          outputVariables: { CommitId: job.jobId.replaceAll("-", "").slice(0, 12), BranchName: "main" },
        }
      : job.configuration.Commands?.includes("OUTCOME=fail")
        ? { outcome: "Failed", summary: "3 of 412 tests failed" }
        : { outcome: "Succeeded", summary: `${job.actionName}: done` },
  );
}

/**
 * Scenario 2: `pipeline(name) { state }` and `pipelineExecution(id)` latency over a database of
 * `pipelines` pipelines with `executionsPerPipeline` executions each, and the SQL statements per
 * request, counted for pipelines of 2, 4 and 8 stages.
 */
export async function runQueries(options: QueryOptions): Promise<BenchResult> {
  const server = await startInProcessServer();
  const gql = new GraphQLHttpClient(server.url, server.token);
  const counter = new SqlCounter();
  const responder = await templateResponder(server.natsPrefix);
  try {
    log("queries: running the template pipelines (2, 4 and 8 stages) through the engine");
    for (const stages of [2, 4, 8]) await runTemplate(gql, `tmpl${stages}`, stages);
    await responder.stop();
    log(
      `queries: copying tmpl4 into ${options.pipelines} pipelines × ${options.executionsPerPipeline} executions`,
    );
    const seeded = await copyTemplate(
      server.database.url,
      "tmpl4",
      options.pipelines,
      options.executionsPerPipeline,
    );
    log(`queries: seeded ${JSON.stringify(seeded)}`);
    const db = new Client({ connectionString: server.database.url });
    db.on("error", () => undefined); // the database may be dropped under it when the bench is interrupted
    await db.connect();
    const names = (
      await db.query<{ name: string }>(`SELECT name FROM pipelines WHERE name LIKE 'bench-%'`)
    ).rows.map((r) => r.name);
    // A random sample, not every id: the server runs in this process, and a million strings here
    // would be its garbage collector's work too.
    const executionIds = (
      await db.query<{ id: string }>(`SELECT id FROM pipeline_executions ORDER BY random() LIMIT 20000`)
    ).rows.map((r) => r.id);
    const sizes = (
      await db.query<{ table: string; bytes: string }>(
        `SELECT relname AS table, pg_total_relation_size(oid)::text AS bytes FROM pg_class
          WHERE relname IN ('pipelines', 'pipeline_versions', 'pipeline_runtimes', 'pipeline_executions', 'action_executions')`,
      )
    ).rows;
    const runtimeBytes = (
      await db.query<{ avg: string }>(
        `SELECT avg(pg_column_size(state))::int::text AS avg FROM pipeline_runtimes`,
      )
    ).rows[0]!.avg;
    const viewBytes = (
      await db.query<{ avg: string }>(
        `SELECT avg(length(view::text))::int::text AS avg FROM pipeline_executions TABLESAMPLE SYSTEM (5)`,
      )
    ).rows[0]!.avg;
    await db.end();

    // The copies must be whole: every stage pointer of a copied runtime names a copied execution.
    for (let i = 0; i < 20; i++) {
      const name = randomOf(names);
      const state = (await gql.data<StateData>(STATE_QUERY, { name })).pipeline!.state;
      const pointed = state.stages.flatMap((s) => (s.latestExecution ? [s.latestExecution.executionId] : []));
      if (pointed.length === 0 || !state.stages.some((s) => s.waitingExecutions.length > 0))
        throw new Error(`${name}: the copied state has no executions in it: ${JSON.stringify(state)}`);
      for (const id of pointed) {
        const found = await gql.data<{ pipelineExecution: { pipelineName: string } | null }>(
          EXECUTION_QUERY,
          { id },
        );
        if (found.pipelineExecution?.pipelineName !== name)
          throw new Error(`${name}: its state points at execution ${id}, which is not one of its executions`);
      }
    }

    counter.install(server.server.db);
    let sequence = 0;
    const measure = async (
      query: string,
      variables: () => Record<string, unknown>,
      n: number,
    ): Promise<Measured> => {
      const latencies: number[] = [];
      const perRequest: number[] = [];
      const sqlMs: number[] = [];
      const texts = new Map<string, number>();
      let principalLoads = 0;
      for (let i = 0; i < n; i++) {
        const id = String(++sequence);
        const started = process.hrtime.bigint();
        const response = await gql.request(query, variables(), { [COUNT_HEADER]: id });
        latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors)}`);
        const { statements, sqlMs: waited } = counter.take(id);
        const own = statements.filter((text) => !PRINCIPAL_LOAD.test(text));
        if (own.length < statements.length) principalLoads += 1;
        perRequest.push(own.length);
        sqlMs.push(waited);
        for (const text of statements) texts.set(text, (texts.get(text) ?? 0) + 1);
      }
      return {
        latencyMs: summarize(latencies),
        principalLoads,
        sqlMs: summarize(sqlMs),
        statementsPerRequest: {
          min: Math.min(...perRequest),
          max: Math.max(...perRequest),
          mean: Math.round((perRequest.reduce((a, b) => a + b, 0) / n) * 100) / 100,
        },
        statements: [...texts].map(([text, count]) => ({
          text: text.length > 160 ? `${text.slice(0, 157)}...` : text,
          perRequest: Math.round((count / n) * 100) / 100,
        })),
      };
    };

    const quiet = await waitForQuiet(null);
    const cpu = new OthersCpu(null);
    log(`queries: warming up, then ${options.requests} sequential pipeline(name) { state } requests`);
    await measure(STATE_QUERY, () => ({ name: randomOf(names) }), 300);
    const state = await measure(STATE_QUERY, () => ({ name: randomOf(names) }), options.requests);
    log(`queries: ${options.requests} sequential pipelineExecution(id) requests`);
    await measure(EXECUTION_QUERY, () => ({ id: randomOf(executionIds) }), 300);
    const execution = await measure(
      EXECUTION_QUERY,
      () => ({ id: randomOf(executionIds) }),
      options.requests,
    );
    const used = cpu.read();

    const byStages: Record<
      string,
      { state: Measured["statementsPerRequest"]; execution: Measured["statementsPerRequest"] }
    > = {};
    for (const stages of [2, 4, 8]) {
      const name = `tmpl${stages}`;
      const latest = (await gql.data<StateData>(STATE_QUERY, { name })).pipeline!.state.stages[0]!
        .latestExecution!;
      byStages[`${stages} stages`] = {
        state: (await measure(STATE_QUERY, () => ({ name }), 50)).statementsPerRequest,
        execution: (await measure(EXECUTION_QUERY, () => ({ id: latest.executionId }), 50))
          .statementsPerRequest,
      };
    }
    const constant = (pick: (v: (typeof byStages)[string]) => Measured["statementsPerRequest"]) => {
      const all = Object.values(byStages).flatMap((v) => [pick(v).min, pick(v).max]);
      return Math.min(...all) === Math.max(...all) ? Math.max(...all) : Number.NaN;
    };

    return {
      name: "queries",
      title: `Query latency: pipeline(name) { state } and pipelineExecution(id) over ${seeded.pipelines.toLocaleString(
        "en-US",
      )} pipelines, ${seeded.executions.toLocaleString("en-US")} executions`,
      date: new Date().toISOString(),
      machine: machineFacts(),
      parameters: {
        requests: options.requests,
        mode: "sequential, one keep-alive connection, random pipeline each time (of all), random execution each time (of 20,000 drawn at random), after 300 warm-up requests",
        server: "in the bench process (startServer), PostgreSQL, LOG_LEVEL=info to /dev/null",
        data: `tmpl2/tmpl4/tmpl8 run through the engine (6 executions each), tmpl4 copied ${seeded.pipelines} times × ${seeded.executionsPerPipeline} executions`,
      },
      figures: [
        { label: "pipeline(name) { state }, p50", value: state.latencyMs.p50, unit: "ms" },
        { label: "pipeline(name) { state }, p99", value: state.latencyMs.p99, unit: "ms", goalMax: 10 },
        {
          label:
            "pipeline(name) { state }: SQL statements per request (most of any request, the caller's principal load apart)",
          value: state.statementsPerRequest.max,
          unit: "",
          note: `the same for 2, 4 and 8 stages: ${Number.isNaN(constant((v) => v.state)) ? "no" : "yes"}`,
        },
        { label: "pipelineExecution(id), p50", value: execution.latencyMs.p50, unit: "ms" },
        { label: "pipelineExecution(id), p99", value: execution.latencyMs.p99, unit: "ms", goalMax: 10 },
        {
          label:
            "pipelineExecution(id): SQL statements per request (most of any request, the caller's principal load apart)",
          value: execution.statementsPerRequest.max,
          unit: "",
          note: `the same for 2, 4 and 8 stages: ${Number.isNaN(constant((v) => v.execution)) ? "no" : "yes"}`,
        },
      ],
      notes: [
        `Latency is measured at the client: one loopback HTTP round trip, GraphQL parsing, validation and ` +
          `execution, and the SQL. Of the median request, PostgreSQL accounts for ${state.sqlMs.p50} ms ` +
          `(state, ${state.statementsPerRequest.max} statements) and ${execution.sqlMs.p50} ms ` +
          `(execution, ${execution.statementsPerRequest.max}); the rest is the server's JavaScript.`,
        "Statements are counted in the server's pg client, per HTTP request (bench/src/sql-counter.ts), " +
          "so the outbox relay's and timer loop's background statements are not counted. The statements " +
          "that load the caller (its user, groups and policies), made by one request every 3 s per " +
          `principal (AUTH_CACHE_TTL_MS), are counted apart: ${state.principalLoads} of the state requests and ` +
          `${execution.principalLoads} of the execution requests made them.`,
        `The data: ${seeded.executions.toLocaleString("en-US")} executions with view snapshots of about ` +
          `${Math.round(Number(viewBytes) / 1000)} kB, ${seeded.actionExecutions.toLocaleString("en-US")} action ` +
          `executions, runtimes of about ${Math.round(Number(runtimeBytes) / 1000)} kB; the execution history ` +
          `(execution_events) is not copied, as neither query reads it.`,
        ...(used.othersShareOfCore > 0.05
          ? [
              `Other processes used ${Math.round(used.othersShareOfCore * 100)} % of a core during the ` +
                "measurement: these figures are skewed by them.",
            ]
          : []),
      ],
      details: {
        waitedForQuietMachine: quiet,
        otherProcessesShareOfCore: Math.round(used.othersShareOfCore * 100) / 100,
        seeded,
        tableBytes: Object.fromEntries(sizes.map((s) => [s.table, Number(s.bytes)])),
        averageRuntimeStateBytes: Number(runtimeBytes),
        averageExecutionViewChars: Number(viewBytes),
        state,
        execution,
        statementsByStages: byStages,
      },
    };
  } finally {
    counter.uninstall();
    gql.close();
    await responder.stop().catch(() => undefined);
    await server.stop();
  }
}
