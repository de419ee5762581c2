import { execFileSync } from "node:child_process";
import { realpathSync } from "node:fs";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { collectEntries } from "../../src/artifacts/archive";
import { INTERNAL_DIR } from "../../src/providers/environment";
import { createShellProvider } from "../../src/providers/shell";
import type { ProviderResult } from "../../src/providers/types";
import { removeDir } from "../artifacts/tree";
import { isGone, makeContext, makeJob, tempBase, waitFor } from "./context";

let base: string;
beforeAll(async () => {
  base = await tempBase("shell");
});
afterAll(async () => {
  await removeDir(base);
});

const build = createShellProvider("Build");
const test = createShellProvider("Test");

const stored = (name: string) => ({
  name,
  objectKey: `exec-42/${name}`,
  size: 1,
  sha256: "a".repeat(64),
});

describe("Shell provider", () => {
  it("runs the commands as one bash script and succeeds", async () => {
    const job = makeJob({
      configuration: { Commands: 'greeting=hello\necho "$greeting world"\necho oops >&2' },
    });
    const { context, log } = await makeContext(base, job);
    const result = await build.run(context);
    expect(result).toMatchObject({ outcome: "Succeeded", summary: "Commands succeeded" });
    expect(log.text("stdout")).toBe("hello world\n");
    expect(log.text("stderr")).toBe("oops\n");
    expect(log.text("system")).toContain('$ echo "$greeting world"');
  });

  it("echoes each command just before it runs, so the failing one is right above its output", async () => {
    const job = makeJob({
      configuration: {
        Commands: [
          "echo one",
          "for i in 1 2; do",
          '  echo "i=$i"',
          "done",
          "cat <<EOF",
          "here",
          "EOF",
          "printf partial; ls /no-such-dir",
          "echo never",
        ].join("\n"),
      },
    });
    const { context, log } = await makeContext(base, job);
    const result = await build.run(context);
    expect(result).toMatchObject({ outcome: "Failed", summary: "Commands failed with exit status 2" });
    const combined = log.chunks
      .filter((c) => c.stream !== "stderr")
      .map((c) => c.text)
      .join("")
      .split("\n")
      .filter((line) => !line.startsWith("Running commands in"));
    expect(combined).toEqual([
      "$ echo one",
      "one",
      "$ for i in 1 2",
      '$ echo "i=$i"',
      "i=1",
      "$ for i in 1 2",
      '$ echo "i=$i"',
      "i=2",
      "$ cat <<EOF",
      "$ here",
      "$ EOF",
      "here",
      "$ printf partial",
      "partial$ ls /no-such-dir",
      "",
    ]);
  });

  it("keeps $? across the echo and runs nested shells without it", async () => {
    const job = makeJob({
      configuration: {
        Commands: 'false || echo "status=$?"\n(echo sub)\nbash -c "echo nested"\nno-such-command || true',
      },
    });
    const { context, log } = await makeContext(base, job);
    expect(await build.run(context)).toMatchObject({ outcome: "Succeeded" });
    expect(log.text("stdout")).toBe("status=1\nsub\nnested\n");
    expect(log.text("system")).toContain('$ bash -c "echo nested"\n');
    // the trap shares the first line: bash's line numbers are those of the Commands configuration
    expect(log.text("stderr")).toMatch(/line 4: no-such-command: command not found/);
  });

  it("never lets git find a repository the work directory sits in", async () => {
    const enclosing = path.join(base, "enclosing-repo");
    await mkdir(enclosing);
    execFileSync("git", ["init", "-q", enclosing]);
    const job = makeJob({
      configuration: {
        Commands:
          'test -z "${GIT_DIR:-}"\nif git rev-parse --show-toplevel; then exit 9; fi\ngit init -q . && git rev-parse --show-toplevel',
      },
    });
    const { context, log, workspace } = await makeContext(enclosing, job);
    const result = await build.run(context);
    expect(result).toMatchObject({ outcome: "Succeeded" });
    expect(log.text("stderr")).toMatch(/not a git repository/);
    // the job's own repository still works
    expect(log.text("stdout").trim()).toBe(realpathSync(workspace));
  });

  it("stops at the first failing command (errexit) and reports its status", async () => {
    const job = makeJob({ configuration: { Commands: "echo start\nfalse\necho never" } });
    const { context, log } = await makeContext(base, job);
    const result = await build.run(context);
    expect(result).toMatchObject({
      outcome: "Failed",
      failureType: "JobFailed",
      summary: "Commands failed with exit status 1",
      errorDetails: { code: "ExitStatus1" },
    });
    expect(log.text("stdout")).toBe("start\n");
  });

  it("fails a pipeline whose first command fails (pipefail), with stderr in the details", async () => {
    const job = makeJob({ configuration: { Commands: "{ echo broken >&2; exit 7; } | cat" } });
    const { context } = await makeContext(base, job);
    const result = await build.run(context);
    expect(result.summary).toBe("Commands failed with exit status 7");
    expect(result.errorDetails).toEqual({
      code: "ExitStatus7",
      message: "Commands failed with exit status 7; last lines of stderr:\nbroken",
    });
  });

  it("refuses a job without Commands", async () => {
    const { context } = await makeContext(base, makeJob({ configuration: { Commands: "  " } }));
    const result = await build.run(context);
    expect(result).toMatchObject({ outcome: "Failed", failureType: "ConfigurationError" });
    expect(result.summary).toMatch(/Commands is required/);
  });

  it("gives commands the job's context but not the agent's environment", async () => {
    process.env.SLUICE_AGENT_TOKEN = "sat_do_not_leak_me";
    try {
      const job = makeJob({
        configuration: {
          Commands: "env | sort",
          EnvironmentVariables: '{"NODE_ENV":"production","EXTRA":"yes"}',
        },
        inputArtifacts: [stored("Src"), stored("Other-Lib")],
        sourceRevision: { actionName: "Checkout", revisionId: "abc123" },
        context: { pipelineExecutionId: "exec-42", variables: { Env: "staging" } },
      });
      const { context, log, workspace } = await makeContext(base, job);
      const result = await build.run(context);
      expect(result.outcome).toBe("Succeeded");
      const env = Object.fromEntries(
        log
          .text("stdout")
          .trim()
          .split("\n")
          .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
      );
      expect(log.text()).not.toContain("sat_do_not_leak_me");
      expect(env.SLUICE_AGENT_TOKEN).toBeUndefined();
      expect(env).toMatchObject({
        SLUICE_PIPELINE_NAME: "web.app@v2",
        SLUICE_STAGE_NAME: "Build",
        SLUICE_ACTION_NAME: "Compile",
        SLUICE_EXECUTION_ID: "exec-42",
        SLUICE_JOB_ID: "job-7",
        SLUICE_ATTEMPT: "2",
        SLUICE_POOL: "default",
        SLUICE_AGENT_NAME: "build-host-1",
        SLUICE_WORKSPACE: workspace,
        SLUICE_REVISION_ID: "abc123",
        SLUICE_INPUT_Src: path.join(workspace, "inputs/Src"),
        "SLUICE_INPUT_Other-Lib": path.join(workspace, "inputs/Other-Lib"),
        SLUICE_INPUT_Other_Lib: path.join(workspace, "inputs/Other-Lib"),
        SLUICE_VAR_Env: "staging",
        SLUICE_OUTPUT: path.join(workspace, INTERNAL_DIR, "output.env"),
        TMPDIR: path.join(workspace, INTERNAL_DIR, "tmp"),
        NODE_ENV: "production",
        EXTRA: "yes",
        SHELL: "/bin/bash",
      });
      expect(env.PWD).toBe(path.join(workspace, "inputs/Src"));
    } finally {
      delete process.env.SLUICE_AGENT_TOKEN;
    }
  });

  it("refuses malformed EnvironmentVariables before running anything", async () => {
    const marker = path.join(base, "env-marker");
    const job = makeJob({
      configuration: { Commands: `touch ${marker}`, EnvironmentVariables: "{not json" },
    });
    const { context } = await makeContext(base, job);
    const result = await build.run(context);
    expect(result).toMatchObject({ outcome: "Failed", failureType: "ConfigurationError" });
    expect(result.summary).toMatch(/EnvironmentVariables must be a JSON object of strings/);
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);

    const nonString = makeJob({ configuration: { Commands: "true", EnvironmentVariables: '{"A":1}' } });
    const second = await build.run((await makeContext(base, nonString)).context);
    expect(second.summary).toMatch(/the value of "A" must be a string/);
  });

  it("never logs configuration values other than the commands", async () => {
    const job = makeJob({
      configuration: {
        Commands: "echo building",
        ApiKey: "k3y-value-123",
        EnvironmentVariables: '{"TOKEN":"env-secret-456"}',
      },
    });
    const { context, log } = await makeContext(base, job);
    expect((await build.run(context)).outcome).toBe("Succeeded");
    expect(log.text()).not.toContain("k3y-value-123");
    expect(log.text()).not.toContain("env-secret-456");
  });

  it("reads output variables from SLUICE_OUTPUT and reports bad lines", async () => {
    const job = makeJob({
      configuration: {
        Commands: [
          'echo "Version=1.2.3" >> "$SLUICE_OUTPUT"',
          'echo "no equals sign" >> "$SLUICE_OUTPUT"',
          'echo "bad name=x" >> "$SLUICE_OUTPUT"',
          'echo "Url=https://x.example/?a=b" >> "$SLUICE_OUTPUT"',
          'printf "Empty=\\n" >> "$SLUICE_OUTPUT"',
        ].join("\n"),
      },
    });
    const { context, log } = await makeContext(base, job);
    const result = await build.run(context);
    expect(result.outputVariables).toEqual({ Version: "1.2.3", Url: "https://x.example/?a=b", Empty: "" });
    expect(log.text("system")).toContain("SLUICE_OUTPUT line 2 ignored");
    expect(log.text("system")).toContain("SLUICE_OUTPUT line 3 ignored");
  });

  it("makes the whole working directory the only output artifact when OutputFiles is absent", async () => {
    const job = makeJob({
      configuration: { Commands: "mkdir -p dist && echo built > dist/app.js" },
      inputArtifacts: [stored("Src")],
      outputArtifacts: [{ name: "Out" }],
    });
    const { context, workspace } = await makeContext(base, job);
    await writeFile(path.join(workspace, "inputs/Src/main.c"), "int main;");
    const result = await build.run(context);
    expect(result.outcome).toBe("Succeeded");
    expect(result.outputs).toEqual({
      Out: { root: path.join(workspace, "inputs/Src"), files: ["dist", "main.c"] },
    });
  });

  it("keeps its own files out of a workspace-wide output artifact", async () => {
    const job = makeJob({
      configuration: { Commands: "echo x > made.txt" },
      outputArtifacts: [{ name: "Out" }],
    });
    const { context, workspace } = await makeContext(base, job);
    const result = await build.run(context);
    expect(result.outputs).toEqual({ Out: { root: workspace, files: ["made.txt"] } });
  });

  it("collects OutputFiles globs, dot files and symlinks included", async () => {
    const job = makeJob({
      configuration: { Commands: "true", OutputFiles: "dist/**, *.md" },
      inputArtifacts: [stored("Src")],
      outputArtifacts: [{ name: "Out" }],
    });
    const { context, workspace } = await makeContext(base, job);
    const src = path.join(workspace, "inputs/Src");
    await mkdir(path.join(src, "dist/sub"), { recursive: true });
    await writeFile(path.join(src, "dist/app.js"), "app");
    await writeFile(path.join(src, "dist/.env"), "dot");
    await writeFile(path.join(src, "dist/sub/x.js"), "x");
    await symlink("app.js", path.join(src, "dist/latest.js"));
    await symlink("/etc", path.join(src, "dist/etc"));
    await writeFile(path.join(src, "README.md"), "readme");
    await writeFile(path.join(src, "other.txt"), "no");
    const result = await build.run(context);
    expect(result.outcome).toBe("Succeeded");
    expect(result.outputs!.Out!.files).toEqual([
      "README.md",
      "dist/.env",
      "dist/app.js",
      "dist/etc",
      "dist/latest.js",
      "dist/sub/x.js",
    ]);
    // The link to /etc is matched as a link, never followed; the archive step refuses it.
    await expect(collectEntries("Out", result.outputs!.Out!)).rejects.toThrow(/"dist\/etc" is refused/);
  });

  it("maps several output artifacts with a JSON OutputFiles", async () => {
    const job = makeJob({
      configuration: {
        Commands: "mkdir -p web api && echo w > web/index.html && echo a > api/server.js",
        OutputFiles: '{"Web":"web/**","Api":"api/*.js"}',
      },
      outputArtifacts: [{ name: "Web" }, { name: "Api" }],
    });
    const { context, workspace } = await makeContext(base, job);
    const result = await build.run(context);
    expect(result.outputs).toEqual({
      Web: { root: workspace, files: ["web/index.html"] },
      Api: { root: workspace, files: ["api/server.js"] },
    });
  });

  it("fails with ConfigurationError naming an output artifact whose globs match nothing", async () => {
    const job = makeJob({
      configuration: { Commands: "true", OutputFiles: '{"Web":"web/**","Api":"api/**"}' },
      outputArtifacts: [{ name: "Web" }, { name: "Api" }],
    });
    const { context, workspace } = await makeContext(base, job);
    await mkdir(path.join(workspace, "web"));
    await writeFile(path.join(workspace, "web/index.html"), "w");
    const result = await build.run(context);
    expect(result).toMatchObject({ outcome: "Failed", failureType: "ConfigurationError" });
    expect(result.summary).toContain("output artifact Api");
  });

  it.each([
    ['{"Nope":"x"}', /"Nope", which is not an output artifact/],
    ["{broken", /OutputFiles is not valid JSON/],
    ["../secrets/**", /must be relative and must not contain "\.\."/],
    ["/etc/passwd", /must be relative/],
  ])("refuses OutputFiles %j before running", async (outputFiles, message) => {
    const marker = path.join(base, "outputs-marker");
    const job = makeJob({
      configuration: { Commands: `touch ${marker}`, OutputFiles: outputFiles },
      outputArtifacts: [{ name: "Out" }],
    });
    const result = await build.run((await makeContext(base, job)).context);
    expect(result).toMatchObject({ outcome: "Failed", failureType: "ConfigurationError" });
    expect(result.summary).toMatch(message);
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
  });

  it("needs a JSON OutputFiles when there are several output artifacts", async () => {
    const job = makeJob({
      configuration: { Commands: "true" },
      outputArtifacts: [{ name: "A" }, { name: "B" }],
    });
    const result = await build.run((await makeContext(base, job)).context);
    expect(result.failureType).toBe("ConfigurationError");
    expect(result.summary).toMatch(/OutputFiles is required when an action has several output artifacts/);
  });

  it("on abort kills the commands and their children, and returns promptly", async () => {
    const pidFile = path.join(base, "shell-abort.pid");
    const job = makeJob({ configuration: { Commands: `sleep 300 &\necho $! > ${pidFile}\nsleep 300` } });
    const { context, abort } = await makeContext(base, job);
    const running = build.run(context);
    const pid = await waitFor(async () => {
      const text = await readFile(pidFile, "utf8").catch(() => "");
      return text.trim() ? Number(text) : undefined;
    });
    const abortedAt = Date.now();
    abort({ kind: "Cancelled", message: "Cancelled: Abandoned" });
    const result: ProviderResult = await running;
    expect(result.summary).toBe("Cancelled: Abandoned");
    await waitFor(() => (isGone(pid) ? true : undefined), 2000);
    expect(Date.now() - abortedAt).toBeLessThan(2000);
  });
});

describe("Shell provider for Test actions", () => {
  const suites = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="6" failures="1" errors="1">
  <testsuite name="a" tests="4">
    <testcase name="one"/>
    <testcase name="two"><failure message="boom">stack</failure></testcase>
    <testcase name="three"><skipped/></testcase>
    <testcase name="four"/>
  </testsuite>
  <testsuite name="b" tests="2">
    <testcase name="five"><error message="crash"/></testcase>
    <testcase name="six"/>
  </testsuite>
</testsuites>`;
  const lone = `<testsuite name="c" tests="5" failures="0" errors="0" skipped="2"></testsuite>`;

  it("attaches the JUnit counts and follows the commands' exit status", async () => {
    const job = makeJob({
      actionTypeId: { category: "Test", owner: "Sluice", provider: "Shell", version: "1" },
      configuration: {
        Commands: `mkdir -p reports\ncat > reports/a.xml <<'EOF'\n${suites}\nEOF\necho '${lone}' > reports/b.xml`,
        ReportFiles: "reports/*.xml",
      },
    });
    const { context } = await makeContext(base, job);
    const result = await test.run(context);
    expect(result.outcome).toBe("Succeeded");
    expect(result.testReport).toEqual({ passed: 6, failed: 2, skipped: 3 });
    expect(result.summary).toBe("Commands succeeded; tests: 6 passed, 2 failed, 3 skipped");
  });

  it("attaches the report to a failure too", async () => {
    const job = makeJob({
      configuration: { Commands: `echo '${lone}' > r.xml\nexit 2`, ReportFiles: "r.xml" },
    });
    const result = await test.run((await makeContext(base, job)).context);
    expect(result).toMatchObject({ outcome: "Failed", summary: "Commands failed with exit status 2" });
    expect(result.testReport).toEqual({ passed: 3, failed: 0, skipped: 2 });
  });

  it("logs a report it cannot parse and goes on", async () => {
    const job = makeJob({
      configuration: {
        Commands: `echo '<testsuite><oops>' > bad.xml\necho '${lone}' > good.xml`,
        ReportFiles: "*.xml",
      },
    });
    const { context, log } = await makeContext(base, job);
    const result = await test.run(context);
    expect(result.outcome).toBe("Succeeded");
    expect(result.testReport).toEqual({ passed: 3, failed: 0, skipped: 2 });
    expect(log.text("system")).toMatch(/Test report bad\.xml ignored: invalid XML/);
  });
});
