/**
 * A rogue worker (issue #11): it holds jobs of its own, speaks the protocol, and tries to reach what
 * is not its job's. Every attempt is refused and changes nothing it should not (PROTOCOL.md 6.2, 9):
 * it cannot record another execution's object as its output (and so read it back over /artifacts),
 * cannot replace another action's recorded artifact, cannot record an artifact its action does not
 * declare, cannot record an object that is not what it reports, and cannot complete a job leased
 * to another agent.
 */
import crypto from "node:crypto";
import { Objm } from "@nats-io/obj";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { encode, msgIds, natsNames, type JobMessage } from "@sluice/protocol";
import { CREATE, shellBuild, sourceThen } from "../support/documents";
import { connectNats } from "../support/nats";
import { ADMIN_TOKEN, dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";
import { GIT, SHELL, TestWorker } from "../support/worker";

let t: TestServer;
let nc: NatsConnection;
let worker: TestWorker;
beforeAll(async () => {
  t = await startTestServer();
  nc = await connectNats();
  worker = await TestWorker.start(t.natsPrefix, [GIT, SHELL("Build")], (job) =>
    job.actionTypeId.category === "Build" ? "hold" : { outcome: "Succeeded" },
  );
});
afterAll(async () => {
  await worker.stop();
  await nc.close();
  await t.stop();
});

interface Artifact {
  name: string;
  objectKey: string;
  size: number;
  sha256: string;
}
interface Action {
  name: string;
  status: string | null;
  summary: string | null;
  errorDetails: { code: string } | null;
}
const EXECUTION = /* GraphQL */ `
  query ($id: ID!) {
    pipelineExecution(id: $id) {
      artifacts {
        name
        objectKey
        size
        sha256
      }
      stages {
        actions {
          name
          status
          summary
          errorDetails {
            code
          }
        }
      }
    }
  }
`;
async function execution(id: string): Promise<{ artifacts: Artifact[]; actions: Action[] }> {
  const view = dataOf(await t.gql(EXECUTION, { id })).pipelineExecution;
  return { artifacts: view.artifacts, actions: view.stages.flatMap((s: { actions: Action[] }) => s.actions) };
}
const action = async (executionId: string, name: string) =>
  (await execution(executionId)).actions.find((a) => a.name === name)!;
const ended = (executionId: string, name: string) =>
  eventually(
    async () => {
      const a = await action(executionId, name);
      return a.status !== "InProgress" && a.status !== "Queued" && a.status !== null ? a : undefined;
    },
    10_000,
    `${name} ended`,
  );

async function jobOf(actionName: string, pipelineName: string): Promise<JobMessage> {
  await worker.waitFor((jobs) =>
    jobs.some((j) => j.actionName === actionName && j.pipelineName === pipelineName),
  );
  return worker.jobs.find((j) => j.actionName === actionName && j.pipelineName === pipelineName)!;
}

/** Stores bytes the way an agent does and returns their location. */
async function put(objectKey: string, name: string, text: string): Promise<Artifact> {
  const bytes = Buffer.from(text);
  const store = await new Objm(nc).open(natsNames(t.natsPrefix).artifactsBucket);
  await store.putBlob({ name: objectKey }, bytes);
  return {
    name,
    objectKey,
    size: bytes.length,
    sha256: crypto.createHash("sha256").update(bytes).digest("hex"),
  };
}

async function download(executionId: string, name: string): Promise<number> {
  const url = `${t.url.replace(/\/graphql$/, "")}/artifacts/${executionId}/${name}`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  await response.arrayBuffer();
  return response.status;
}

it("refuses a rogue worker's reach into other jobs' artifacts and leases", async () => {
  // The victim: an execution whose Make action (held by the honest worker) will store "Out".
  dataOf(
    await t.gql(CREATE, {
      input: sourceThen("victim", {
        name: "Build",
        actions: [shellBuild("Make", "make", { outputArtifacts: [{ name: "Out" }] })],
      }),
    }),
  );
  // The rogue's jobs: four actions of another pipeline, each declaring one output.
  dataOf(
    await t.gql(CREATE, {
      input: sourceThen("rogue", {
        name: "Build",
        actions: ["Reader", "Overwriter", "Hoarder", "Liar"].map((n) =>
          shellBuild(n, `evil ${n}`, { outputArtifacts: [{ name: `${n}Out` }] }),
        ),
      }),
    }),
  );
  const make = await jobOf("Make", "victim");
  const [reader, overwriter, hoarder, liar] = (await Promise.all(
    ["Reader", "Overwriter", "Hoarder", "Liar"].map((n) => jobOf(n, "rogue")),
  )) as [JobMessage, JobMessage, JobMessage, JobMessage];
  await eventually(async () => (await action(make.executionId, "Make")).status === "InProgress", 10_000);

  // 1. A forged complete for Make, leased to the honest worker: the rogue names that worker and
  //    uses a real lease token, its own. Then the honest worker completes. Results are applied in
  //    order, so if the forgery had counted, Make would hold its summary and not the honest one.
  await jetstream(nc).publish(
    natsNames(t.natsPrefix).subjects.complete,
    encode("complete", {
      jobId: make.jobId,
      attempt: make.attempt,
      leaseToken: reader.leaseToken,
      agentId: worker.agentId,
      outcome: "Failed",
      summary: "forged",
      finishedAt: new Date().toISOString(),
    }),
    { msgID: msgIds.complete(make.jobId, make.attempt, "rogue") },
  );
  await worker.finish(make, {
    outcome: "Succeeded",
    summary: "honest",
    artifacts: { Out: Buffer.from("victim") },
  });
  expect(await ended(make.executionId, "Make")).toMatchObject({ status: "Succeeded", summary: "honest" });
  const victimBefore = await execution(make.executionId);
  const victimOut = victimBefore.artifacts.find((a) => a.name === "Out")!;
  const victimSrc = victimBefore.artifacts.find((a) => a.name === "Src")!;
  expect(victimOut.objectKey).toBe(`${make.executionId}/${make.jobId}/${make.attempt}/Out`);

  // 2. Reading another execution's artifact: report the victim's object as its own output, to
  //    have it recorded in its execution and fetch it over /artifacts.
  await worker.finish(reader, { outcome: "Succeeded" }, (complete) => {
    complete.outputArtifacts = [{ ...victimOut, name: "ReaderOut" }];
  });
  expect(await ended(reader.executionId, "Reader")).toMatchObject({
    status: "Failed",
    errorDetails: { code: "ConfigurationError" },
  });
  expect((await action(reader.executionId, "Reader")).summary).toContain(
    `reported at "${victimOut.objectKey}"`,
  );
  expect(await download(reader.executionId, "ReaderOut")).toBe(404);

  // 3. Overwriting another action's output: report "Src" (Checkout's) from its own upload.
  const fakeSrc = await put(`${overwriter.outputArtifactKeyPrefix}Src`, "Src", "not the source");
  await worker.finish(overwriter, { outcome: "Succeeded" }, (complete) => {
    (complete.outputArtifacts as Artifact[]).push(fakeSrc);
  });
  expect(await ended(overwriter.executionId, "Overwriter")).toMatchObject({
    status: "Failed",
    errorDetails: { code: "ConfigurationError" },
  });
  expect((await action(overwriter.executionId, "Overwriter")).summary).toMatch(
    /"Src", which the action does not declare/,
  );

  // 4. An undeclared artifact, stored where its job stores outputs.
  const extra = await put(`${hoarder.outputArtifactKeyPrefix}Extra`, "Extra", "smuggled");
  await worker.finish(hoarder, { outcome: "Succeeded" }, (complete) => {
    (complete.outputArtifacts as Artifact[]).push(extra);
  });
  expect(await ended(hoarder.executionId, "Hoarder")).toMatchObject({
    status: "Failed",
    errorDetails: { code: "ConfigurationError" },
  });
  expect(await download(hoarder.executionId, "Extra")).toBe(404);
  expect(await download(hoarder.executionId, "HoarderOut")).toBe(404);

  // 5. An output whose stored object is not the one reported.
  await worker.finish(liar, { outcome: "Succeeded" }, (complete) => {
    (complete.outputArtifacts as Artifact[])[0]!.sha256 = "0".repeat(64);
  });
  expect(await ended(liar.executionId, "Liar")).toMatchObject({
    status: "Failed",
    errorDetails: { code: "ArtifactMismatch" },
  });

  // Nothing of the victim's changed, and the rogue's execution recorded none of its claims.
  const rogue = await execution(reader.executionId);
  expect(rogue.artifacts.map((a) => a.name)).toEqual(["Src"]);
  expect(rogue.artifacts[0]!.objectKey).not.toBe(victimSrc.objectKey);
  expect(await execution(make.executionId)).toEqual(victimBefore);
  expect(await download(make.executionId, "Out")).toBe(200);
});
