/**
 * What reads cost in SQL, whatever a server copy holds in memory:
 * - `pipelineExecution(id)`: one statement, whether or not the server already knew the execution's
 *   pipeline. The checker needs the pipeline to authorize; when it reads the row for it, the
 *   resolver answers from that row instead of reading it again (engine/resource-lookups.ts).
 * - a pipeline's runtime (what `pipeline { state }` shows): one statement, the documents its
 *   executions pinned included, on a copy that held neither (engine/runtimes.ts).
 */
import crypto from "node:crypto";
import { Runtimes } from "../../src/engine/runtimes";
import { ExecutionStore } from "../../src/persistence/execution-store";
import { CREATE, manualApproval, sourceThen } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { countGraphQLStatements, countingQueries } from "../support/sql-statements";
import { eventually } from "../support/wait";

const counter = countGraphQLStatements();
let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  counter.uninstall();
  await t.stop();
});

const EXECUTION = `query ($id: ID!) { pipelineExecution(id: $id) { id pipelineName status } }`;

it("reads an execution in one statement, the first time and after", async () => {
  const name = `p-${crypto.randomBytes(3).toString("hex")}`;
  dataOf(await t.gql(CREATE, { input: sourceThen(name, { name: "Prod", actions: [manualApproval()] }) }));
  // Found through its pipeline: the server has not been asked for this execution by id yet.
  const id = await eventually(async () => {
    const { pipeline } = dataOf(
      await t.gql(`query ($n: String!) { pipeline(name: $n) { executions { nodes { id } } } }`, { n: name }),
    );
    return pipeline.executions.nodes[0]?.id as string | undefined;
  });

  counter.start();
  const first = dataOf(await t.gql(EXECUTION, { id })).pipelineExecution;
  const firstStatements = counter.stop();
  expect(first).toMatchObject({ id, pipelineName: name });
  // The checker read the row with its pipeline's account; the resolver used that row.
  expect(firstStatements).toHaveLength(1);
  expect(firstStatements[0]).toMatch(/JOIN pipelines/);

  counter.start();
  const again = dataOf(await t.gql(EXECUTION, { id })).pipelineExecution;
  const againStatements = counter.stop();
  expect(again).toEqual(first);
  // The pipeline is known now (it never changes): only the row is read.
  expect(againStatements).toHaveLength(1);
  expect(againStatements[0]).not.toMatch(/JOIN pipelines/);
});

it("serves no operation a row another operation's check read: a stop, then the execution, shows the stop", async () => {
  const name = `p-${crypto.randomBytes(3).toString("hex")}`;
  dataOf(await t.gql(CREATE, { input: sourceThen(name, { name: "Prod", actions: [manualApproval()] }) }));
  const id = await eventually(async () => {
    const { pipeline } = dataOf(
      await t.gql(`query ($n: String!) { pipeline(name: $n) { executions { nodes { id } } } }`, { n: name }),
    );
    return pipeline.executions.nodes[0]?.id as string | undefined;
  });
  // The stop's check is the first to ask for this execution: it reads the row (InProgress) whole.
  dataOf(
    await t.gql(
      `mutation ($id: ID!) { stopPipelineExecution(input: { executionId: $id, abandon: true }) { clientMutationId } }`,
      {
        id,
      },
    ),
  );
  // Kept for the stop's own operation only: this read is of the row as the stop left it.
  const after = dataOf(await t.gql(EXECUTION, { id })).pipelineExecution;
  expect(["Stopping", "Stopped"]).toContain(after.status);
});

it("answers an unknown execution with null, in one statement", async () => {
  counter.start();
  const missing = await t.gql(EXECUTION, { id: crypto.randomUUID() });
  expect(counter.stop()).toHaveLength(1);
  expect(missing.errors?.[0]?.extensions?.code ?? null).not.toBe("INTERNAL_SERVER_ERROR");
});

it("reads a runtime with the documents its executions pinned in one statement, on a copy that held neither", async () => {
  const name = `p-${crypto.randomBytes(3).toString("hex")}`;
  dataOf(await t.gql(CREATE, { input: sourceThen(name, { name: "Prod", actions: [manualApproval()] }) }));
  // No agent takes the checkout: the execution stays in the runtime, with its record.
  const pipelineId = await eventually(async () => {
    const rows: Array<{ id: string }> = await t.server.db.query(
      `SELECT p.id FROM pipelines p JOIN pipeline_executions e ON e.pipeline_id = p.id
        WHERE p.name = $1 AND e.runtime IS NOT NULL`,
      [name],
    );
    return rows[0]?.id;
  });
  const { db, count } = countingQueries(t.server.db);
  const fresh = new Runtimes(new ExecutionStore(db));
  const runtime = await fresh.read(pipelineId);
  expect(count()).toBe(1);
  const executions = Object.values(runtime!.executions);
  expect(executions).toHaveLength(1);
  expect(executions[0]!.document.stages.map((s) => s.name)).toEqual(["Source", "Prod"]);

  // Held now, at the same revision: the small row alone, neither records nor documents.
  const again = await fresh.read(pipelineId);
  expect(count()).toBe(2);
  expect(again).toBe(runtime);
});
