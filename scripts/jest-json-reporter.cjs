// A tiny jest reporter: when JEST_JSON_DIR is set (scripts/test.mjs sets it), writes this workspace's totals
// to $JEST_JSON_DIR/<package name>.json for the root `npm test` to add up. Without it, it does nothing.
// Use in a workspace's jest.config.js:
//   reporters: ["default", ["<rootDir>/../scripts/jest-json-reporter.cjs", {}]],
"use strict";

const fs = require("node:fs");
const path = require("node:path");

class JestJsonReporter {
  constructor(globalConfig) {
    this.rootDir = globalConfig.rootDir;
  }

  packageName() {
    try {
      return JSON.parse(fs.readFileSync(path.join(this.rootDir, "package.json"), "utf8")).name;
    } catch {
      return path.basename(this.rootDir);
    }
  }

  onRunComplete(_testContexts, results) {
    const dir = process.env.JEST_JSON_DIR;
    if (!dir) return;
    const name = this.packageName();
    // A suite that could not run (syntax error, failing import, error in a hook) has no failed test to count.
    const crashedSuites = results.testResults
      .filter((r) => (r.testExecError || r.failureMessage) && r.numFailingTests === 0)
      .map((r) => path.relative(this.rootDir, r.testFilePath));
    const summary = {
      name,
      numPassedTests: results.numPassedTests,
      numFailedTests: results.numFailedTests,
      numPendingTests: results.numPendingTests + (results.numTodoTests ?? 0),
      numTotalTests: results.numTotalTests,
      numTotalTestSuites: results.numTotalTestSuites,
      numFailedTestSuites: results.numFailedTestSuites,
      numCrashedSuites: crashedSuites.length,
      crashedSuites,
      // which tests failed, with the start of each message, so that the run's last lines name them
      failedTests: failedTests(this.rootDir, results),
      // jest sets results.success only after the reporters ran: work it out the same way
      success:
        results.numFailedTests === 0 &&
        results.numRuntimeErrorTestSuites === 0 &&
        crashedSuites.length === 0 &&
        !results.snapshot?.failure &&
        !results.wasInterrupted,
    };
    fs.mkdirSync(dir, { recursive: true });
    // "@sluice/server" -> "sluice-server.json"; a second jest run of the same package gets its own file
    const base = name.replace(/^@/, "").replace(/[/\\]/g, "-");
    let file = path.join(dir, `${base}.json`);
    for (let n = 2; fs.existsSync(file); n++) file = path.join(dir, `${base}.${n}.json`);
    fs.writeFileSync(file, JSON.stringify(summary, null, 2) + "\n");
  }
}

// The first lines of a failure message, without colour codes: enough to tell one failure from another.
function firstLines(text, n) {
  // eslint-disable-next-line no-control-regex
  const plain = String(text ?? "").replace(/\u001b\[[0-9;]*m/g, "");
  const frameworkFrame = /^\s*at (.*node_modules|new Promise|process\.processTicksAndRejections)/;
  return plain
    .split("\n")
    .filter((l) => l.trim() !== "" && !frameworkFrame.test(l))
    .slice(0, n)
    .join("\n");
}

function failedTests(rootDir, results) {
  const out = [];
  for (const file of results.testResults) {
    for (const t of file.testResults ?? []) {
      if (t.status !== "failed") continue;
      out.push({
        file: path.relative(rootDir, file.testFilePath),
        name: t.fullName,
        message: firstLines((t.failureMessages ?? []).join("\n"), 12),
      });
    }
  }
  return out;
}

module.exports = JestJsonReporter;
