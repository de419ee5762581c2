import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

/** A small valid document: Git source → Shell build, named `name`. */
export function simplePipeline(name: string, extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    name,
    executionMode: "SUPERSEDED",
    variables: [{ name: "Env", defaultValue: "staging", description: "where to deploy" }],
    triggers: [],
    stages: [
      {
        name: "Source",
        actions: [
          {
            name: "Checkout",
            actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
            runOrder: 1,
            configuration: { Repository: "https://git.example/app.git", Branch: "main" },
            inputArtifacts: [],
            outputArtifacts: [{ name: "SourceCode" }],
            namespace: "SourceVariables",
          },
        ],
      },
      {
        name: "Build",
        actions: [
          {
            name: "Compile",
            actionTypeId: { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
            runOrder: 1,
            configuration: { Commands: "make build COMMIT=#{SourceVariables.CommitId} ENV=#{variables.Env}" },
            inputArtifacts: [{ name: "SourceCode" }],
            outputArtifacts: [{ name: "BuildOutput" }],
          },
        ],
      },
    ],
    ...extra,
  };
}

export const CREATE = /* GraphQL */ `
  mutation ($input: PipelineInput!) {
    createPipeline(input: $input) {
      id
      name
      version
      latestVersion
      stages {
        name
        actions {
          name
          runOrder
        }
      }
    }
  }
`;

export const DOCUMENT = /* GraphQL */ `
  query ($name: String!, $version: Int, $format: DocumentFormat! = SLUICE) {
    pipeline(name: $name, version: $version) {
      name
      version
      latestVersion
      document(format: $format)
    }
  }
`;

const APPROVAL = { category: "Approval", owner: "Sluice", provider: "Manual", version: "1" };

/** The Git source most tests start with: `Checkout`, producing `Src`. */
export function checkout(configuration: Record<string, string> = {}): Record<string, unknown> {
  return {
    name: "Checkout",
    actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
    configuration: { Repository: "https://git.example/org/app.git", Branch: "main", ...configuration },
    outputArtifacts: [{ name: "Src" }],
  };
}

/** A Build/Shell action reading `Src`. */
export function shellBuild(name: string, commands: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    actionTypeId: { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
    configuration: { Commands: commands },
    inputArtifacts: [{ name: "Src" }],
    ...extra,
  };
}

export function manualApproval(name = "Ok"): Record<string, unknown> {
  return { name, actionTypeId: APPROVAL };
}

/** `Source [Checkout]` then one more stage: the smallest pipeline the rules accept. */
export function sourceThen(
  name: string,
  stage: { name: string; actions: Array<Record<string, unknown>> },
  options: { checkout?: Record<string, string>; extra?: Record<string, unknown> } = {},
): Record<string, unknown> {
  return {
    name,
    ...options.extra,
    stages: [{ name: "Source", actions: [checkout(options.checkout)] }, stage],
  };
}

/**
 * A git repository made in `dir` (created) with one commit of `app.txt`: what a Source/Git action
 * of a test checks out with `checkout({ Repository: "file://" + dir })`.
 */
export function gitRepository(dir: string, content = "hello\n"): string {
  fs.mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com", ...args], {
      cwd: dir,
      stdio: "pipe",
    });
  git("init", "-q", "-b", "main");
  fs.writeFileSync(path.join(dir, "app.txt"), content);
  git("add", ".");
  git("commit", "-q", "-m", "First commit");
  return dir;
}
