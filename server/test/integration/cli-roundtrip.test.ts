import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { simplePipeline } from "../support/documents";
import { ADMIN_TOKEN, startTestServer, type TestServer } from "../support/server";

const run = promisify(execFile);
const CLI = path.join(__dirname, "..", "..", "..", "cli", "dist", "src", "main.js");

let t: TestServer;
let dir: string;
beforeAll(async () => {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first.`);
  t = await startTestServer();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-cli-"));
});
afterAll(async () => {
  await t.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function sluice(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? "", SLUICE_ENDPOINT: t.url, SLUICE_TOKEN: ADMIN_TOKEN },
      cwd: dir,
    });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

it("copies a pipeline the AWS CLI way: get-pipeline > a.json, edit the name, create-pipeline", async () => {
  fs.writeFileSync(path.join(dir, "p.json"), JSON.stringify(simplePipeline("original")));
  const created = await sluice("create-pipeline", "--cli-input-json", "file://p.json");
  expect(created.code).toBe(0);
  expect(JSON.parse(created.stdout)).toEqual({ pipeline: { name: "original", version: 1 } });

  const got = await sluice("get-pipeline", "--name", "original");
  expect(got.code).toBe(0);
  fs.writeFileSync(path.join(dir, "a.json"), got.stdout);
  const document = JSON.parse(got.stdout);
  document.name = "copy";
  fs.writeFileSync(path.join(dir, "a.json"), JSON.stringify(document, null, 2));
  expect((await sluice("create-pipeline", "--cli-input-json", "file://a.json")).code).toBe(0);

  const copy = JSON.parse((await sluice("get-pipeline", "--name", "copy")).stdout);
  expect({ ...copy, name: "original" }).toEqual(JSON.parse(got.stdout));

  const listed = JSON.parse((await sluice("list-pipelines")).stdout);
  expect(listed.pipelines.map((p: { name: string }) => p.name).sort()).toEqual(["copy", "original"]);
});

it("updates, shows versions, exports AWS, imports it back and deletes", async () => {
  fs.writeFileSync(path.join(dir, "u.json"), JSON.stringify(simplePipeline("upd")));
  expect((await sluice("create-pipeline", "--cli-input-json", "file://u.json")).code).toBe(0);
  fs.writeFileSync(
    path.join(dir, "u.json"),
    JSON.stringify(simplePipeline("upd", { executionMode: "QUEUED" })),
  );
  const updated = await sluice("update-pipeline", "--cli-input-json", "file://u.json");
  expect(JSON.parse(updated.stdout)).toEqual({ pipeline: { name: "upd", version: 2 } });
  const versions = JSON.parse((await sluice("get-pipeline-versions", "--name", "upd")).stdout);
  expect(versions.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);

  const aws = JSON.parse((await sluice("get-pipeline", "--name", "upd", "--format", "aws")).stdout);
  expect(aws.pipeline.name).toBe("upd");
  // As CodePipeline's get-pipeline prints it: the version shown (2) was written after the creation.
  expect(aws.metadata).toEqual({
    pipelineArn: "arn:sluice:codepipeline:::upd",
    created: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
    updated: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
  });
  expect(Date.parse(aws.metadata.updated)).toBeGreaterThan(Date.parse(aws.metadata.created));
  aws.pipeline.name = "upd-imported";
  fs.writeFileSync(path.join(dir, "aws.json"), JSON.stringify(aws));
  const imported = await sluice("import-pipeline", "--cli-input-json", "file://aws.json");
  expect(imported.code).toBe(0);
  expect(JSON.parse(imported.stdout).pipeline).toEqual({ name: "upd-imported", version: 1 });

  expect((await sluice("delete-pipeline", "--name", "upd")).code).toBe(0);
  const gone = await sluice("get-pipeline", "--name", "upd");
  expect(gone.code).toBe(1);
  expect(gone.stderr).toMatch(/not found/);
});

it("prints validation errors one per line on stderr with a non-zero exit", async () => {
  const bad = simplePipeline("bad");
  bad.stages[1].actions[0].runOrder = 1000;
  fs.writeFileSync(path.join(dir, "bad.json"), JSON.stringify(bad));
  const result = await sluice("create-pipeline", "--cli-input-json", "file://bad.json");
  expect(result.code).toBe(1);
  expect(result.stdout).toBe("");
  expect(result.stderr).toMatch(/BAD_USER_INPUT/);
  expect(result.stderr).toMatch(/^ {2}stages\[1\]\.actions\[0\]\.runOrder: /m);
});
