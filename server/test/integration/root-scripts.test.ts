/**
 * The root scripts behind `npm test`: what `npm run lint` checks (scripts/lint.mjs) and the numbers of
 * the last line (scripts/test-tally.mjs), run as the processes they are.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import semver from "semver";

const SCRIPTS = path.join(__dirname, "..", "..", "..", "scripts");

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-root-scripts-"));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("npm run lint", () => {
  it("checks what git tracks and new files in the project's folders, not a user's files at the root", () => {
    const repo = path.join(dir, "checkout");
    const write = (file: string, text = "x\n") => {
      fs.mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
      fs.writeFileSync(path.join(repo, file), text);
    };
    write(".gitignore", "dist/\n");
    write("package.json", "{}\n");
    write("server/src/app.ts");
    execFileSync("git", ["init", "-q", repo]);
    execFileSync("git", ["add", "-A"], { cwd: repo });
    write("a.json", '{"name":   "left by the README"}'); // untracked, at the root: the user's
    write("server/src/new.ts"); // untracked, in the project: checked
    write("server/dist/main.js"); // ignored
    const files = execFileSync(process.execPath, [path.join(SCRIPTS, "lint.mjs"), "--print-files"], {
      cwd: repo,
      encoding: "utf8",
    });
    expect(files.trim().split("\n").sort()).toEqual([
      ".gitignore",
      "package.json",
      "server/src/app.ts",
      "server/src/new.ts",
    ]);
  });
});

describe("npm test's last line", () => {
  const tally = (input: object) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [
          "--input-type=module",
          "-e",
          `import { tally } from ${JSON.stringify(path.join(SCRIPTS, "test-tally.mjs"))};
           const { passed, failed, lines } = tally(${JSON.stringify(input)});
           console.log(JSON.stringify({ passed, failed, lines }));`,
        ],
        { encoding: "utf8" },
      ),
    );
  const green = { name: "@sluice/cli", success: true, numPassedTests: 12, numFailedTests: 0 };

  it("never says 0 failed when lint failed and every test passed", () => {
    expect(
      tally({ failedSteps: ["lint"], testStepFailed: false, reports: [green], silentWorkspaces: [] }),
    ).toMatchObject({ passed: 12, failed: 1 });
  });

  it("names each failed test with the start of its message, so that CI's last lines say what failed", () => {
    const red = {
      ...green,
      success: false,
      numPassedTests: 11,
      numFailedTests: 1,
      failedTests: [{ file: "test/a.test.ts", name: "a works", message: "expect(x).toBe(1)\nReceived: 2" }],
    };
    const { lines } = tally({ failedSteps: [], testStepFailed: true, reports: [red], silentWorkspaces: [] });
    expect(lines).toEqual([
      "@sluice/cli: 11 passed, 1 failed, 0 skipped",
      "  failed: test/a.test.ts › a works",
      "    expect(x).toBe(1)",
      "    Received: 2",
    ]);
  });

  it("counts a failed type check, a failed test and a workspace that reported nothing", () => {
    expect(
      tally({ failedSteps: [], testStepFailed: true, reports: [green], silentWorkspaces: [] }),
    ).toMatchObject({
      passed: 12,
      failed: 1,
    });
    const red = { ...green, success: false, numPassedTests: 10, numFailedTests: 2 };
    expect(
      tally({ failedSteps: ["build"], testStepFailed: true, reports: [red], silentWorkspaces: ["web"] }),
    ).toMatchObject({ passed: 10, failed: 4 });
    expect(
      tally({ failedSteps: [], testStepFailed: false, reports: [green], silentWorkspaces: [] }),
    ).toMatchObject({
      passed: 12,
      failed: 0,
    });
  });
});

describe("the dependencies", () => {
  it("all support the oldest Node the project supports, so that npm ci warns of no engine", () => {
    const root = path.join(__dirname, "..", "..", "..");
    const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
    const oldest = semver.minVersion(pkg.engines.node)!;
    expect(oldest.major).toBe(20);
    const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8"));
    const unsupported = Object.entries(lock.packages as Record<string, { version?: string; engines?: any }>)
      .filter(([, p]) => typeof p.engines?.node === "string" && !semver.satisfies(oldest, p.engines.node))
      .map(([where, p]) => `${where}@${p.version}: node ${p.engines.node}`);
    expect(unsupported).toEqual([]);
  });
});
