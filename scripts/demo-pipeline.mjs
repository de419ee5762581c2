#!/usr/bin/env node
// The demo pipeline `npm start` offers on a fresh installation: every example under examples/ points at
// hosts of its own (git.example.com, ...), so a first run of those is always red. This one works on any
// machine with git and bash: a local git repository made in the data directory, and
// Source → Build → Test (a JUnit report) → Approval → Deploy (a copy into the data directory).
// It is created through the API once, on the first start of an installation (the marker file
// $SLUICE_DATA_DIR/demo-pipeline remembers it, so a demo you deleted stays deleted).
//
//   node scripts/demo-pipeline.mjs [--print]
//     SLUICE_DATA_DIR (default .sluice/data), SLUICE_ENDPOINT (default http://localhost:4000/graphql),
//     SLUICE_ADMIN_TOKEN (default: $SLUICE_DATA_DIR/admin-token), WEB_PORT (default 3000).
//   --print writes the document for this data directory on stdout and creates nothing.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

export const DEMO_PIPELINE = "demo";

const BUILD = `#!/usr/bin/env bash
# The demo's build: what a real one does with a compiler, in two lines.
set -euo pipefail
mkdir -p dist
printf 'hello from the Sluice demo, built %s\\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > dist/greeting.txt
echo "built dist/greeting.txt"
`;

const TEST = `#!/usr/bin/env bash
# The demo's tests: two checks of the build, reported as JUnit XML (reports/junit.xml) as a test runner
# would, so that the Test action shows their counts.
set -uo pipefail
mkdir -p reports
failures=0
cases=""
check() {
  local name="$1"; shift
  if "$@" >/dev/null 2>&1; then
    cases+="  <testcase classname=\\"demo\\" name=\\"$name\\"/>"$'\\n'
  else
    failures=$((failures + 1))
    cases+="  <testcase classname=\\"demo\\" name=\\"$name\\"><failure message=\\"failed\\"/></testcase>"$'\\n'
  fi
  echo "test $name: $([ "$failures" -eq 0 ] && echo ok || echo FAILED)"
}
check "the build wrote a greeting" test -s dist/greeting.txt
check "the greeting says hello" grep -q hello dist/greeting.txt
printf '<testsuite name="demo" tests="2" failures="%d">\\n%s</testsuite>\\n' "$failures" "$cases" > reports/junit.xml
exit "$failures"
`;

const README = `# Sluice demo

A small repository made by \`npm start\` for the demo pipeline: \`build.sh\` builds \`dist/\`, \`test.sh\`
checks it and writes a JUnit report. Commit a change here and release it from the dashboard or with
\`npx sluice start-pipeline-execution --name demo\`.
`;

/** The demo's document for a repository at `repository` and a deploy directory `deployDir`. */
export function demoDocument(repository, deployDir) {
  const shell = (category, name, configuration, extra = {}) => ({
    name,
    actionTypeId: { category, owner: "Sluice", provider: "Shell", version: "1" },
    configuration,
    ...extra,
  });
  return {
    name: DEMO_PIPELINE,
    executionMode: "SUPERSEDED",
    stages: [
      {
        name: "Source",
        actions: [
          {
            name: "Checkout",
            actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
            configuration: { Repository: repository, Branch: "main" },
            outputArtifacts: [{ name: "Src" }],
            namespace: "SourceVariables",
          },
        ],
      },
      {
        name: "Build",
        actions: [
          shell(
            "Build",
            "Build",
            { Commands: "bash build.sh" },
            { inputArtifacts: [{ name: "Src" }], outputArtifacts: [{ name: "App" }] },
          ),
        ],
      },
      {
        name: "Test",
        actions: [
          shell(
            "Test",
            "UnitTests",
            { Commands: "bash test.sh", ReportFiles: "reports/*.xml" },
            { inputArtifacts: [{ name: "App" }] },
          ),
        ],
      },
      {
        name: "Approval",
        actions: [
          {
            name: "Approve",
            actionTypeId: { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" },
            configuration: {
              CustomData: `Deploy commit #{SourceVariables.CommitId} to ${deployDir}?`,
            },
          },
        ],
      },
      {
        name: "Deploy",
        actions: [
          shell(
            "Deploy",
            "Deploy",
            {
              // The previous release goes first: it may belong to another user (a root agent runs
              // each job as a uid of its own).
              Commands:
                'mkdir -p "$DEPLOY_DIR"\nrm -f "$DEPLOY_DIR"/*\ncp -R dist/. "$DEPLOY_DIR"/\necho "deployed to $DEPLOY_DIR"',
              EnvironmentVariables: JSON.stringify({ DEPLOY_DIR: deployDir }),
            },
            { inputArtifacts: [{ name: "App" }] },
          ),
        ],
      },
    ],
  };
}

/** Makes the demo's git repository (branch main, one commit) unless it is there already. */
export function makeDemoRepository(dir) {
  if (fs.existsSync(path.join(dir, ".git"))) return dir;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "build.sh"), BUILD, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "test.sh"), TEST, { mode: 0o755 });
  fs.writeFileSync(path.join(dir, "README.md"), README);
  // An identity of its own: the machine's git may have none configured.
  const git = (...args) =>
    execFileSync("git", ["-c", "user.name=Sluice demo", "-c", "user.email=demo@sluice.invalid", ...args], {
      cwd: dir,
      stdio: "pipe",
    });
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("commit", "-q", "-m", "The Sluice demo: a build, its tests");
  return dir;
}

/**
 * The demo's deploy directory. An agent that runs as root (npm start as root: CI, a container) runs
 * each job as an unprivileged uid of its own, which must be able to write there: the directory is
 * then open to every user, as a demo's can be. Otherwise the first deploy makes it.
 */
export function makeDeployDirectory(dir) {
  if (process.getuid?.() !== 0) return;
  fs.mkdirSync(dir, { recursive: true });
  fs.chmodSync(dir, 0o777);
}

function paths(dataDir) {
  return {
    marker: path.join(dataDir, "demo-pipeline"),
    repository: path.join(dataDir, "demo-repo"),
    deployDir: path.join(dataDir, "demo-deployed"),
  };
}

/**
 * Creates the demo pipeline once per installation. Returns "created", "kept" (made on an earlier
 * start; it may have been deleted since, and is not made again) or throws with the API's message.
 */
export async function ensureDemoPipeline({ dataDir, endpoint, adminToken }) {
  const { marker, repository, deployDir } = paths(dataDir);
  if (fs.existsSync(marker)) return "kept";
  makeDemoRepository(repository);
  makeDeployDirectory(deployDir);
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({
      query: "mutation ($input: PipelineInput!) { createPipeline(input: $input) { name version } }",
      variables: { input: demoDocument(repository, deployDir) },
    }),
  });
  const body = await response.json();
  const error = body.errors?.[0];
  // A pipeline of that name (made by hand, or by a start that died before writing the marker) is
  // left as it is.
  if (error && error.extensions?.code !== "CONFLICT") throw new Error(error.message);
  fs.writeFileSync(marker, `${new Date().toISOString()}\n`);
  return error ? "kept" : "created";
}

export function demoLink(webPort) {
  return `http://localhost:${webPort}/pipelines/${DEMO_PIPELINE}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dataDir = path.resolve(process.env.SLUICE_DATA_DIR ?? path.join(".sluice", "data"));
  if (process.argv.includes("--print")) {
    const { repository, deployDir } = paths(dataDir);
    process.stdout.write(`${JSON.stringify(demoDocument(repository, deployDir), null, 2)}\n`);
    process.exit(0);
  }
  let adminToken = process.env.SLUICE_ADMIN_TOKEN;
  try {
    adminToken ||= fs.readFileSync(path.join(dataDir, "admin-token"), "utf8").trim();
  } catch {
    console.error(`demo-pipeline: set SLUICE_ADMIN_TOKEN (no ${path.join(dataDir, "admin-token")})`);
    process.exit(2);
  }
  try {
    const outcome = await ensureDemoPipeline({
      dataDir,
      endpoint: process.env.SLUICE_ENDPOINT || "http://localhost:4000/graphql",
      adminToken,
    });
    console.log(`${outcome}: ${demoLink(process.env.WEB_PORT ?? "3000")}`);
  } catch (error) {
    console.error(`demo-pipeline: ${error.message}`);
    process.exit(1);
  }
}
