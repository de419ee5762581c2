import { execFileSync } from "node:child_process";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { collectEntries } from "../../src/artifacts/archive";
import { classifyGitFailure, createGitProvider, redactUrl, repositoryName } from "../../src/providers/git";
import { removeDir, snapshot } from "../artifacts/tree";
import { makeContext, makeJob, tempBase } from "./context";
import { startGitHttpServer, type GitHttpServer } from "./git-http-server";

const gitEnv = {
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: "/nonexistent",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_DATE: "2025-01-31T09:15:00Z",
  GIT_COMMITTER_DATE: "2025-01-31T09:16:00Z",
};

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", ...args], {
    cwd,
    env: gitEnv,
    encoding: "utf8",
  }).trim();
}

let base: string;
let repo: string;
let first: string;
let second: string;
let onFeature: string;

beforeAll(async () => {
  base = await tempBase("git");
  repo = path.join(base, "my-repo");
  await mkdir(repo);
  git(repo, "init", "--quiet", "-b", "main");
  await writeFile(path.join(repo, "README.md"), "version one\n");
  git(repo, "add", ".");
  git(repo, "commit", "--quiet", "-m", "First commit");
  first = git(repo, "rev-parse", "HEAD");
  await mkdir(path.join(repo, "src"));
  await writeFile(path.join(repo, "README.md"), "version two\n");
  await writeFile(path.join(repo, "src/app.js"), "console.log(2);\n");
  await symlink("src/app.js", path.join(repo, "main.js"));
  git(repo, "add", ".");
  git(repo, "commit", "--quiet", "-m", "Second commit\n\nWith a body that is not the subject.");
  second = git(repo, "rev-parse", "HEAD");
  git(repo, "checkout", "--quiet", "-b", "feature");
  await writeFile(path.join(repo, "feature.txt"), "feature\n");
  git(repo, "add", ".");
  git(repo, "commit", "--quiet", "-m", "Feature work");
  onFeature = git(repo, "rev-parse", "HEAD");
  git(repo, "checkout", "--quiet", "main");
});

afterAll(async () => {
  await removeDir(base);
});

const provider = createGitProvider();

function sourceJob(configuration: Record<string, string>, revisionId?: string) {
  return makeJob({
    stageName: "Source",
    actionName: "Checkout",
    actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
    configuration,
    outputArtifacts: [{ name: "SourceCode" }],
    ...(revisionId ? { sourceRevision: { actionName: "Checkout", revisionId } } : {}),
  });
}

describe("Git provider", () => {
  it("checks out the branch head without .git and reports the commit", async () => {
    const { context, log } = await makeContext(base, sourceJob({ Repository: repo, Branch: "main" }));
    const result = await provider.run(context);
    expect(result.outcome).toBe("Succeeded");
    expect(result.summary).toBe("Second commit");
    expect(result.outputVariables).toEqual({
      CommitId: second,
      BranchName: "main",
      CommitMessage: "Second commit",
      AuthorName: "Ada Lovelace",
      AuthorEmail: "ada@example.com",
      AuthorDate: "2025-01-31T09:15:00+00:00",
      CommitterDate: "2025-01-31T09:16:00+00:00",
      RepositoryName: "my-repo",
    });
    const spec = result.outputs!.SourceCode!;
    expect(spec.files).toEqual(["README.md", "main.js", "src"]);
    // What would be uploaded: the tree of the commit, the symlink kept, nothing of .git.
    expect((await collectEntries("SourceCode", spec)).paths).toEqual([
      "README.md",
      "main.js",
      "src",
      "src/app.js",
    ]);
    const tree = await snapshot(spec.root);
    expect(tree["README.md"]).toBe("file:version two\n");
    expect(tree["main.js"]).toBe("link:src/app.js");
    expect(log.text("system")).toContain(`Checked out ${second}: Second commit`);
  });

  it("checks out exactly the pinned commit", async () => {
    const { context } = await makeContext(base, sourceJob({ Repository: repo, Branch: "main" }, first));
    const result = await provider.run(context);
    expect(result.outcome).toBe("Succeeded");
    expect(result.outputVariables!.CommitId).toBe(first);
    expect(result.summary).toBe("First commit");
    expect(await snapshot(result.outputs!.SourceCode!.root)).toMatchObject({
      "README.md": "file:version one\n",
    });
    expect(result.outputs!.SourceCode!.files).toEqual(["README.md"]);
  });

  it("fetches a pinned commit that is not on the branch by its id", async () => {
    const url = `file://${repo}`;
    const { context } = await makeContext(base, sourceJob({ Repository: url, Branch: "main" }, onFeature));
    const result = await provider.run(context);
    expect(result.outcome).toBe("Succeeded");
    expect(result.outputVariables!.CommitId).toBe(onFeature);
    expect(result.outputs!.SourceCode!.files).toContain("feature.txt");
  });

  it("fails with RevisionUnavailable when the pinned commit does not exist", async () => {
    for (const revision of ["0123456789abcdef0123456789abcdef01234567", "0123abc"]) {
      const { context } = await makeContext(base, sourceJob({ Repository: repo, Branch: "main" }, revision));
      const result = await provider.run(context);
      expect(result).toMatchObject({ outcome: "Failed", failureType: "RevisionUnavailable" });
      expect(result.summary).toContain(revision);
    }
  });

  it("refuses a revision id that is not a commit id", async () => {
    const { context } = await makeContext(
      base,
      sourceJob({ Repository: repo, Branch: "main" }, "--upload-pack=evil"),
    );
    const result = await provider.run(context);
    expect(result).toMatchObject({ outcome: "Failed", failureType: "RevisionUnavailable" });
  });

  it("fails with ConfigurationError for a missing repository, a non-repository and a missing branch", async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ Repository: path.join(base, "nope"), Branch: "main" }, /does not exist on this agent/],
      [{ Repository: `file://${path.join(base, "nope")}`, Branch: "main" }, /does not exist on this agent/],
      [{ Repository: base, Branch: "main" }, /does not appear to be a git repository/],
      [{ Repository: repo, Branch: "no-such-branch" }, /Branch no-such-branch does not exist/],
      [{ Repository: "just words", Branch: "main" }, /is not a git repository location/],
      [{ Repository: repo }, /Branch is required/],
      [{ Repository: repo, Branch: "--force" }, /not a valid branch name/],
      [{ Branch: "main" }, /Repository is required/],
    ];
    for (const [configuration, message] of cases) {
      const { context } = await makeContext(base, sourceJob(configuration));
      const result = await provider.run(context);
      expect(result).toMatchObject({ outcome: "Failed", failureType: "ConfigurationError" });
      expect(result.summary).toMatch(message);
    }
  });

  it("fails with SystemUnavailable when the host cannot be reached", async () => {
    const { context } = await makeContext(
      base,
      sourceJob({ Repository: "https://user:hunter2@127.0.0.1:9/team/app.git", Branch: "main" }),
    );
    const result = await provider.run(context);
    expect(result).toMatchObject({ outcome: "Failed", failureType: "SystemUnavailable" });
    expect(result.summary).toContain("https://***@127.0.0.1:9/team/app.git");
    expect(result.summary).not.toContain("hunter2");
  });
});

describe("Git provider over HTTP (smart HTTP, as GitHub, GitLab and Gitea serve)", () => {
  let open: GitHttpServer;
  let locked: GitHttpServer;
  beforeAll(async () => {
    open = await startGitHttpServer(base);
    locked = await startGitHttpServer(base, { user: "ci", password: "s3cret-token" });
  });
  afterAll(async () => {
    await open.close();
    await locked.close();
  });

  it("checks out a branch head and a pinned commit from an http(s) URL", async () => {
    const url = `${open.origin}/my-repo`;
    const head = await provider.run(
      (await makeContext(base, sourceJob({ Repository: url, Branch: "main" }))).context,
    );
    expect(head).toMatchObject({ outcome: "Succeeded", summary: "Second commit" });
    expect(head.outputVariables).toMatchObject({ CommitId: second, RepositoryName: "my-repo" });
    const pinned = await provider.run(
      (await makeContext(base, sourceJob({ Repository: url, Branch: "main" }, onFeature))).context,
    );
    expect(pinned).toMatchObject({ outcome: "Succeeded", summary: "Feature work" });
    expect(open.requests.some((r) => r.startsWith("/my-repo/info/refs?service=git-upload-pack"))).toBe(true);
  });

  it("authenticates with credentials in the URL, and never shows them", async () => {
    const { context, log } = await makeContext(
      base,
      sourceJob({
        Repository: `http://ci:s3cret-token@${locked.origin.slice(7)}/my-repo`,
        Branch: "feature",
      }),
    );
    const result = await provider.run(context);
    expect(result).toMatchObject({ outcome: "Succeeded", summary: "Feature work" });
    expect(result.outputVariables).toMatchObject({ CommitId: onFeature, BranchName: "feature" });
    expect(log.text()).not.toContain("s3cret-token");
    expect(JSON.stringify(result)).not.toContain("s3cret-token");
  });

  it("fails with PermissionError for a wrong or missing password, without asking for one", async () => {
    for (const repository of [
      `http://ci:wrong@${locked.origin.slice(7)}/my-repo`,
      `${locked.origin}/my-repo`,
    ]) {
      const { context, log } = await makeContext(base, sourceJob({ Repository: repository, Branch: "main" }));
      const result = await provider.run(context);
      expect(result).toMatchObject({ outcome: "Failed", failureType: "PermissionError" });
      expect(`${result.summary}${log.text()}`).not.toContain("wrong@");
    }
  });

  it("fails with ConfigurationError for a repository the server does not have", async () => {
    const { context } = await makeContext(
      base,
      sourceJob({ Repository: `${open.origin}/nothing-here`, Branch: "main" }),
    );
    const result = await provider.run(context);
    expect(result).toMatchObject({ outcome: "Failed", failureType: "ConfigurationError" });
  });
});

describe("Git provider without git", () => {
  it("fails with SystemUnavailable when git cannot be run on this agent", async () => {
    const path_ = process.env.PATH;
    process.env.PATH = path.join(base, "empty-bin");
    try {
      const { context } = await makeContext(base, sourceJob({ Repository: repo, Branch: "main" }));
      const result = await provider.run(context);
      expect(result).toMatchObject({ outcome: "Failed", failureType: "SystemUnavailable" });
      expect(result.summary).toBe("git cannot be run on this agent (ENOENT)");
    } finally {
      process.env.PATH = path_;
    }
  });
});

describe("Git provider cancellation", () => {
  it("stops a fetch that hangs when the job is aborted", async () => {
    // A server that accepts connections and never answers: git waits until it is killed.
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const job = sourceJob({ Repository: `http://127.0.0.1:${port}/team/app.git`, Branch: "main" });
      const { context, abort } = await makeContext(base, job);
      const running = provider.run(context);
      await new Promise<void>((resolve) => {
        const check = () => (sockets.length > 0 ? resolve() : setTimeout(check, 20));
        check();
      });
      const abortedAt = Date.now();
      abort({ kind: "TimedOut", message: "timed out after 5 minutes" });
      const result = await running;
      expect(result.summary).toBe("timed out after 5 minutes");
      expect(Date.now() - abortedAt).toBeLessThan(2000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("git helpers", () => {
  it("names repositories", () => {
    expect(repositoryName("https://github.com/team/app.git")).toBe("app");
    expect(repositoryName("git@github.com:team/app.git")).toBe("app");
    expect(repositoryName("/srv/git/app/")).toBe("app");
  });

  it("redacts credentials", () => {
    expect(redactUrl("https://x:y@host/a")).toBe("https://***@host/a");
    expect(redactUrl("git@host:a")).toBe("git@host:a");
  });

  it("classifies git's complaints", () => {
    expect(classifyGitFailure("fatal: Authentication failed for 'https://h/r'")).toBe("PermissionError");
    expect(
      classifyGitFailure("git@h: Permission denied (publickey).\nfatal: Could not read from remote"),
    ).toBe("PermissionError");
    expect(classifyGitFailure("ssh: Could not resolve hostname h: Name or service not known")).toBe(
      "SystemUnavailable",
    );
    expect(classifyGitFailure("fatal: repository 'https://h/r/' not found")).toBe("ConfigurationError");
  });
});
