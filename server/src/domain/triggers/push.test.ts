import type { ActionDeclaration, PipelineDocument, PipelineTrigger } from "../pipeline/document";
import { normalizeRepository, sourcesStartedBy, type Push } from "./push";

function git(
  name: string,
  repository: string,
  branch: string,
  extra: Record<string, string> = {},
): ActionDeclaration {
  return {
    name,
    actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
    runOrder: 1,
    configuration: { Repository: repository, Branch: branch, ...extra },
    inputArtifacts: [],
    outputArtifacts: [{ name: `${name}Out` }],
    namespace: null,
    region: null,
    timeoutInMinutes: null,
    retryPolicy: null,
    awsMetadata: null,
  };
}

function doc(sources: ActionDeclaration[], triggers: PipelineTrigger[] = []): PipelineDocument {
  return {
    name: "web",
    executionMode: "SUPERSEDED",
    variables: [],
    triggers,
    schedules: [],
    stages: [{ name: "Source", actions: sources, onNewerRevision: null, awsMetadata: null }],
    awsMetadata: null,
  };
}

const push = (p: Partial<Push>): Push => ({
  repositoryUrls: [],
  branch: "main",
  tag: null,
  commitId: "abc",
  message: null,
  url: null,
  changedFiles: null,
  ...p,
});

const names = (d: PipelineDocument, p: Push) => sourcesStartedBy(d, p).map((m) => m.action.name);

describe("which sources a push starts", () => {
  it("without triggers: a commit to the source's branch, and only that branch", () => {
    const d = doc([git("App", "https://git.example/org/app.git", "main")]);
    expect(names(d, push({ branch: "main" }))).toEqual(["App"]);
    expect(names(d, push({ branch: "dev" }))).toEqual([]);
    expect(names(d, push({ branch: null, tag: "v1" }))).toEqual([]);
  });

  it("tells sources apart by repository when the push names it", () => {
    const d = doc([
      git("App", "https://git.example/org/app.git", "main"),
      git("Lib", "git@git.example:org/lib.git", "main"),
    ]);
    expect(names(d, push({ repositoryUrls: ["ssh://git@git.example/org/lib"] }))).toEqual(["Lib"]);
    expect(names(d, push({ repositoryUrls: ["https://GIT.example/org/app"] }))).toEqual(["App"]);
    // Two sources and no repository named: nothing to go by.
    expect(names(d, push({}))).toEqual([]);
  });

  it("respects DetectChanges: false", () => {
    const d = doc([git("App", "https://git.example/org/app.git", "main", { DetectChanges: "false" })]);
    expect(names(d, push({}))).toEqual([]);
  });

  it("with a trigger: branch and tag globs with excludes, and file paths", () => {
    const d = doc(
      [git("App", "https://git.example/org/app.git", "main")],
      [
        {
          providerType: "Git",
          gitConfiguration: {
            sourceActionName: "App",
            push: [
              {
                branches: { includes: ["main", "release/*"], excludes: ["release/old"] },
                filePaths: { includes: ["src/**"], excludes: ["src/docs/**"] },
                tags: null,
              },
              { branches: null, filePaths: null, tags: { includes: ["v*"], excludes: [] } },
            ],
          },
        },
      ],
    );
    expect(names(d, push({ branch: "release/2", changedFiles: ["src/a.ts"] }))).toEqual(["App"]);
    expect(names(d, push({ branch: "release/old", changedFiles: ["src/a.ts"] }))).toEqual([]);
    expect(names(d, push({ branch: "main", changedFiles: ["src/docs/x.md"] }))).toEqual([]);
    expect(names(d, push({ branch: "main", changedFiles: ["README.md", "src/b.ts"] }))).toEqual(["App"]);
    expect(names(d, push({ branch: "feature", changedFiles: ["src/a.ts"] }))).toEqual([]);
    expect(names(d, push({ branch: null, tag: "v2.0.0" }))).toEqual(["App"]);
    expect(names(d, push({ branch: null, tag: "nightly" }))).toEqual([]);
  });

  it("normalizes repository URLs of every common form", () => {
    for (const url of [
      "https://git.example/org/app.git",
      "http://git.example/org/app/",
      "git@git.example:org/app.git",
      "ssh://git@git.example/org/app",
      "git://git.example/org/app",
    ]) {
      expect(normalizeRepository(url)).toBe("git.example/org/app");
    }
    expect(normalizeRepository("ssh://git@git.example:2222/org/app")).toBe("git.example:2222/org/app");
  });
});
