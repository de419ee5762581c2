import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { createHandlerProvider, type HandlerJobFile } from "../../src/providers/handler";
import { removeDir } from "../artifacts/tree";
import { isGone, makeContext, makeJob, tempBase, waitFor } from "./context";

let base: string;
beforeAll(async () => {
  base = await tempBase("handler");
});
afterAll(async () => {
  await removeDir(base);
});

const id = { category: "Deploy", owner: "Custom", provider: "K8s-Apply", version: "2" } as const;

function customJob(configuration: Record<string, string> = { Cluster: "prod", Token: "tok-secret" }) {
  return makeJob({
    actionTypeId: id,
    configuration,
    inputArtifacts: [{ name: "Manifests", objectKey: "exec-42/Manifests", size: 1, sha256: "b".repeat(64) }],
    outputArtifacts: [{ name: "Report" }, { name: "Rendered-Yaml" }],
  });
}

describe("handler provider", () => {
  it("hands the job over as a JSON file and collects the output directories", async () => {
    const script = path.join(base, "handler.sh");
    await writeFile(
      script,
      [
        "set -e",
        'cp "$SLUICE_JOB_FILE" "$SLUICE_OUTPUT_DIR_Report/job.json"',
        'ls "$SLUICE_INPUT_Manifests" > "$SLUICE_OUTPUT_DIR_Rendered_Yaml/list.txt"',
        'echo "Applied=3" >> "$SLUICE_OUTPUT"',
        'echo "handler ran in $PWD"',
      ].join("\n"),
    );
    const provider = createHandlerProvider(id, `bash ${script}`);
    expect(provider.id).toEqual(id);
    const { context, log, workspace } = await makeContext(base, customJob());
    await writeFile(path.join(workspace, "inputs/Manifests/deploy.yaml"), "kind: Deployment");
    const result = await provider.run(context);

    expect(result.outcome).toBe("Succeeded");
    expect(result.outputVariables).toEqual({ Applied: "3" });
    const reportDir = result.outputs!.Report!.root;
    const renderedDir = result.outputs!["Rendered-Yaml"]!.root;
    expect(await readFile(path.join(renderedDir, "list.txt"), "utf8")).toBe("deploy.yaml\n");
    const jobFile = JSON.parse(await readFile(path.join(reportDir, "job.json"), "utf8")) as HandlerJobFile;
    expect(jobFile).toMatchObject({
      actionType: "Deploy/Custom/K8s-Apply@2",
      jobId: "job-7",
      attempt: 2,
      configuration: { Cluster: "prod", Token: "tok-secret" },
      inputs: { Manifests: path.join(workspace, "inputs/Manifests") },
      outputs: { Report: reportDir, "Rendered-Yaml": renderedDir },
      workspace,
    });
    expect(log.text("stdout")).toBe(`handler ran in ${workspace}\n`);
    expect(log.text()).not.toContain("tok-secret");
  });

  it("keeps the job file private to the agent's user", async () => {
    const provider = createHandlerProvider(id, 'stat -c %a "$SLUICE_JOB_FILE"');
    const { context, log } = await makeContext(base, customJob());
    expect((await provider.run(context)).outcome).toBe("Succeeded");
    expect(log.text("stdout")).toBe("600\n");
  });

  it("fails with JobFailed when the handler exits non-zero", async () => {
    const provider = createHandlerProvider(id, "echo refused >&2; exit 3");
    const result = await provider.run((await makeContext(base, customJob())).context);
    expect(result).toMatchObject({
      outcome: "Failed",
      failureType: "JobFailed",
      summary: "Handler failed with exit status 3",
      errorDetails: { code: "ExitStatus3" },
    });
    expect(result.errorDetails!.message).toContain("refused");
  });

  it("kills the handler and its children on abort", async () => {
    const pidFile = path.join(base, "handler.pid");
    const provider = createHandlerProvider(id, `sleep 300 & echo $! > ${pidFile}; wait`);
    const { context, abort } = await makeContext(base, customJob());
    const running = provider.run(context);
    const pid = await waitFor(async () => {
      const text = await readFile(pidFile, "utf8").catch(() => "");
      return text.trim() ? Number(text) : undefined;
    });
    abort();
    const result = await running;
    expect(result.outcome).toBe("Failed");
    await waitFor(() => (isGone(pid) ? true : undefined), 2000);
  });

  it("refuses an empty command", () => {
    expect(() => createHandlerProvider(id, "  ")).toThrow(
      /handler command for Deploy\/Custom\/K8s-Apply@2 is empty/,
    );
  });
});
