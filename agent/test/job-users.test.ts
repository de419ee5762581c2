/**
 * Jobs as other users (exec/job-users.ts): the options, host-wide uid claims, the kill of whatever
 * a job left under its uid, and the Shell and Git providers running as a job uid in a workspace
 * made for it. Needs root, as the isolation itself does.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseConfig } from "../src/config";
import { createJobUsers, type JobUser } from "../src/exec/job-users";
import { mayStillRunAs, runProcess } from "../src/exec/process";
import { createGitProvider } from "../src/providers/git";
import { createHandlerProvider } from "../src/providers/handler";
import { BUILTIN_PROVIDER_IDS } from "../src/providers/registry";
import { createShellProvider } from "../src/providers/shell";
import type { JobContext } from "../src/providers/types";
import { makeWorkspaceSync, prepareWorkDir } from "../src/runtime/workspace";
import { RecordingSink, makeJob } from "./providers/context";

/** These tests are about the isolation options: a NATS without credentials, so no --server-url. */
const PLAIN_NATS = { SLUICE_NATS_INSECURE: "1" };

const TOKEN = "sat_0123456789abcdef";
let base: string;

beforeAll(() => {
  if (process.getuid?.() !== 0) throw new Error("these tests need root: jobs run as other users");
  base = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-job-users-"));
  fs.chmodSync(base, 0o755);
});

afterAll(() => {
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

describe("the isolation options", () => {
  const parse = (argv: string[], env: Record<string, string> = {}, root = true) =>
    parseConfig(argv, { SLUICE_AGENT_TOKEN: TOKEN, ...PLAIN_NATS, ...env }, BUILTIN_PROVIDER_IDS, root);

  it("isolates by default when root, and not otherwise", () => {
    expect(parse([])).toMatchObject({
      ok: true,
      config: { jobIsolation: { mode: "uid-range", from: 60000, to: 60999 } },
    });
    expect(parse([], {}, false)).toMatchObject({
      ok: true,
      config: { jobIsolation: { mode: "none", reason: "not-root" } },
    });
    expect(parse(["--no-job-isolation"])).toMatchObject({
      ok: true,
      config: { jobIsolation: { mode: "none", reason: "disabled" } },
    });
    expect(parse([], { SLUICE_AGENT_NO_JOB_ISOLATION: "1" })).toMatchObject({
      config: { jobIsolation: { mode: "none", reason: "disabled" } },
    });
    expect(parse(["--job-uid-range", "70000-70009"])).toMatchObject({
      config: { jobIsolation: { mode: "uid-range", from: 70000, to: 70009 } },
    });
    expect(parse([], { SLUICE_AGENT_JOB_USER: "builder" })).toMatchObject({
      config: { jobIsolation: { mode: "user", user: "builder" } },
    });
  });

  it("refuses options that contradict each other or cannot work, naming each", () => {
    const errors = (result: ReturnType<typeof parse>) => (result.ok === false ? result.errors : []);
    expect(errors(parse(["--job-user", "builder", "--job-uid-range", "70000-70009"]))).toEqual([
      "--job-user (SLUICE_AGENT_JOB_USER): give a job user or a job uid range, not both",
    ]);
    expect(errors(parse(["--job-user", "builder", "--no-job-isolation"]))).toEqual([
      "--no-job-isolation (SLUICE_AGENT_NO_JOB_ISOLATION): jobs cannot both run as other users and not",
    ]);
    expect(errors(parse(["--job-uid-range", "70000-70009"], {}, false))).toEqual([
      "--job-uid-range (SLUICE_AGENT_JOB_UID_RANGE): only an agent that runs as root can run jobs as other users",
    ]);
    expect(errors(parse(["--job-uid-range", "0-99"]))).toEqual([
      expect.stringContaining("--job-uid-range (SLUICE_AGENT_JOB_UID_RANGE): must start at 1000"),
    ]);
    expect(errors(parse(["--job-uid-range", "70000-70001", "--concurrency", "3"]))).toEqual([
      "--job-uid-range (SLUICE_AGENT_JOB_UID_RANGE): 70000-70001 has fewer uids than --concurrency runs jobs (3)",
    ]);
  });

  it("reads the token from a file, never together with --token, and never shows it in an error", () => {
    const file = path.join(base, "token");
    fs.writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
    const fromFile = parseConfig(["--token-file", file], PLAIN_NATS, BUILTIN_PROVIDER_IDS, true);
    expect(fromFile).toMatchObject({
      ok: true,
      config: { token: TOKEN, tokenSource: "file", tokenFile: file },
    });
    expect(
      parseConfig([], { SLUICE_AGENT_TOKEN: TOKEN, ...PLAIN_NATS }, BUILTIN_PROVIDER_IDS, true),
    ).toMatchObject({
      config: { tokenSource: "env" },
    });
    const both = parseConfig(
      ["--token-file", file],
      { SLUICE_AGENT_TOKEN: TOKEN, ...PLAIN_NATS },
      BUILTIN_PROVIDER_IDS,
      true,
    );
    expect(both.ok === false && both.errors).toEqual([
      "--token-file (SLUICE_AGENT_TOKEN_FILE): give the token or a token file, not both",
    ]);
    const missing = parseConfig(
      [],
      { SLUICE_AGENT_TOKEN_FILE: path.join(base, "nope"), ...PLAIN_NATS },
      BUILTIN_PROVIDER_IDS,
      true,
    );
    expect(missing.ok === false && missing.errors).toEqual([
      `--token-file (SLUICE_AGENT_TOKEN_FILE): cannot read ${path.join(base, "nope")} (ENOENT)`,
    ]);
    fs.writeFileSync(file, "short\n");
    const short = parseConfig(["--token-file", file], PLAIN_NATS, BUILTIN_PROVIDER_IDS, true);
    expect(short.ok === false && short.errors.join("\n")).toContain(
      `--token-file (SLUICE_AGENT_TOKEN_FILE): the token in ${file} must be`,
    );
    expect(short.ok === false && short.errors.join("\n")).not.toContain("short\n");
  });
});

describe("uids claimed host-wide", () => {
  it("two agents never hold the same uid; a released uid serves again", () => {
    const lockDir = path.join(base, "locks-shared");
    const a = createJobUsers({ mode: "uid-range", from: 61000, to: 61001, lockDir })!;
    const b = createJobUsers({ mode: "uid-range", from: 61000, to: 61001, lockDir })!;
    const first = a.acquire();
    const second = b.acquire();
    expect(first.uid).not.toBe(second.uid);
    expect([first.uid, second.uid].sort()).toEqual([61000, 61001]);
    expect(() => a.acquire()).toThrow("no free uid in the job uid range 61000-61001");
    a.release(first);
    expect(b.acquire().uid).toBe(first.uid);
    expect(fs.statSync(lockDir).mode & 0o777).toBe(0o700);
  });

  it("takes over the claim of an agent that is gone, after killing what ran under that uid", async () => {
    const lockDir = path.join(base, "locks-stale");
    fs.mkdirSync(path.join(lockDir, "61010"), { recursive: true, mode: 0o700 });
    fs.chmodSync(lockDir, 0o700);
    // A dead pid: no process has a start time under it.
    fs.writeFileSync(path.join(lockDir, "61010", "owner"), "2147483646 12345");
    const leftover = execFileSync("/bin/sh", ["-c", "setsid sleep 300 >/dev/null 2>&1 & echo $!"], {
      uid: 61010,
      gid: 61010,
      encoding: "utf8",
    }).trim();
    expect(alive(Number(leftover))).toBe(true);
    const users = createJobUsers({ mode: "uid-range", from: 61010, to: 61010, lockDir })!;
    expect(users.acquire().uid).toBe(61010);
    await waitUntil(() => !alive(Number(leftover)), "the leftover process to be killed");
  });
});

describe("a job's processes under its uid", () => {
  const user: JobUser = { uid: 61020, gid: 61020, name: "sluice-job-61020", exclusive: true };

  it("are all killed when the command ends, even those that left its process group", async () => {
    const result = await runProcess({
      argv: ["/bin/sh", "-c", "setsid sleep 300 >/dev/null 2>&1 & echo $!; id -u"],
      cwd: "/",
      env: { PATH: "/usr/bin:/bin" },
      user,
      captureStdout: true,
    });
    const [pid, uid] = result.stdout.trim().split("\n").map(Number);
    expect(uid).toBe(61020);
    // SIGKILLed before runProcess returned (it runs no more code of its own: the kernel ends it as
    // soon as it is scheduled, a moment later on a busy host); without the kill it would sleep 300 s.
    await waitUntil(() => !alive(pid!), "the escaped process to be gone", 5_000);
  });

  it("may still run while a command runs, and not once it ended and its uid was cleared", async () => {
    // The workspace's removal kills the uid's processes again only while this says so.
    const stop = new AbortController();
    const running = runProcess({
      argv: ["/bin/sh", "-c", "sleep 300"],
      cwd: "/",
      env: { PATH: "/usr/bin:/bin" },
      user,
      signal: stop.signal,
    });
    expect(mayStillRunAs(user)).toBe(true);
    stop.abort();
    expect((await running).aborted).toBe(true);
    expect(mayStillRunAs(user)).toBe(false);
  });

  function contextFor(
    workspace: string,
    configuration: Record<string, string>,
    category = "Build",
  ): JobContext {
    return {
      job: makeJob({
        configuration,
        actionTypeId: {
          category: category as "Build",
          owner: "Sluice",
          provider: category === "Source" ? "Git" : "Shell",
          version: "1",
        },
        outputArtifacts: [{ name: "Out" }],
      }),
      workspace,
      inputs: new Map(),
      log: new RecordingSink(),
      signal: new AbortController().signal,
      agent: { id: "agent-1", name: "a", pool: "default" },
      user,
    };
  }

  it("Shell runs as the job's uid in a 0700 workspace of its own, with a HOME it can write", async () => {
    const workDir = path.join(base, "work");
    prepareWorkDir(workDir, true);
    expect(fs.statSync(workDir).mode & 0o777).toBe(0o711);
    const workspace = makeWorkspaceSync(workDir, "job-", [".sluice-job/tmp"], user);
    const context = contextFor(workspace, {
      Commands:
        'id -u\nstat -c "%a %u" "$SLUICE_WORKSPACE"\ntouch "$HOME/x" && echo "home $HOME"\necho "user $USER"\nmkdir out && echo hi > out/a.txt',
      OutputFiles: "out/**",
    });
    const result = await createShellProvider("Build").run(context);
    const log = (context.log as RecordingSink).text("stdout");
    expect(result).toMatchObject({ outcome: "Succeeded" });
    expect(log).toContain("61020\n700 61020\n");
    expect(log).toContain(`home ${path.join(workspace, ".sluice-job", "home")}`);
    expect(log).toContain("user sluice-job-61020");
  });

  it("Git fetches a local repository owned by root as the job's uid", async () => {
    const repo = path.join(base, "repo");
    fs.mkdirSync(repo);
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.name=Ada", "-c", "user.email=ada@example.com", ...args], {
        cwd: repo,
        stdio: "pipe",
      });
    git("init", "-q", "-b", "main");
    fs.writeFileSync(path.join(repo, "app.txt"), "app\n");
    git("add", ".");
    git("commit", "-q", "-m", "First");
    const workspace = makeWorkspaceSync(path.join(base, "work"), "git-", [".sluice-job/tmp"], user);
    const context = contextFor(workspace, { Repository: repo, Branch: "main" }, "Source");
    const result = await createGitProvider().run(context);
    expect({ result, log: (context.log as RecordingSink).text() }).toMatchObject({
      result: { outcome: "Succeeded" },
    });
    expect(fs.statSync(path.join(workspace, ".sluice-job", "checkout", "app.txt")).uid).toBe(61020);
  });
});

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

async function waitUntil(test: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the work directory of an agent whose jobs run as other users", () => {
  it("is closed to listing, and refused when others could write to it or cannot reach it", () => {
    const mine = path.join(base, "work-mine");
    prepareWorkDir(mine, true);
    expect(fs.statSync(mine).mode & 0o777).toBe(0o711);
    const open = path.join(base, "work-open");
    fs.mkdirSync(open);
    fs.chmodSync(open, 0o1777);
    expect(() => prepareWorkDir(open, true)).toThrow(
      `the work directory ${open} must be a directory of the agent's own that no other user can write to`,
    );
    expect(fs.statSync(open).mode & 0o7777).toBe(0o1777);
    const closed = fs.mkdtempSync(path.join(base, "closed-"));
    fs.chmodSync(closed, 0o700);
    expect(() => prepareWorkDir(path.join(closed, "work"), true)).toThrow(
      `${closed} is closed to others (chmod o+x ${closed}, or choose another --work-dir)`,
    );
  });
});

describe("a named job user", () => {
  it("is looked up with its uid, group and home, and root is refused", () => {
    const nobody = createJobUsers({ mode: "user", user: "nobody" })!;
    expect(nobody.acquire()).toMatchObject({ uid: 65534, name: "nobody" });
    expect(nobody.acquire().exclusive).toBeFalsy();
    expect(() => createJobUsers({ mode: "user", user: "root" })).toThrow(
      "--job-user: root is root; jobs must not run as root",
    );
    expect(() => createJobUsers({ mode: "user", user: "no-such-user-here" })).toThrow(
      '--job-user: there is no user "no-such-user-here" on this host',
    );
  });
});

describe("a Custom handler as a job uid", () => {
  it("reads its job file and fills its output directory", async () => {
    const user: JobUser = { uid: 61030, gid: 61030, name: "sluice-job-61030", exclusive: true };
    const workspace = makeWorkspaceSync(path.join(base, "work"), "handler-", [".sluice-job/tmp"], user);
    const log = new RecordingSink();
    const context: JobContext = {
      job: makeJob({
        actionTypeId: { category: "Build", owner: "Custom", provider: "Tool", version: "1" },
        configuration: { Greeting: "hi" },
        outputArtifacts: [{ name: "Out" }],
      }),
      workspace,
      inputs: new Map(),
      log,
      signal: new AbortController().signal,
      agent: { id: "agent-1", name: "a", pool: "default" },
      user,
    };
    const provider = createHandlerProvider(
      context.job.actionTypeId,
      'id -u; grep -o \'"Greeting": "hi"\' "$SLUICE_JOB_FILE" > "$SLUICE_OUTPUT_DIR_Out/greeting.txt"',
    );
    const result = await provider.run(context);
    expect({ result, log: log.text() }).toMatchObject({ result: { outcome: "Succeeded" } });
    expect(log.text("stdout")).toContain("61030");
    const written = path.join(workspace, ".sluice-job", "outputs", "Out", "greeting.txt");
    expect(fs.readFileSync(written, "utf8")).toContain('"Greeting": "hi"');
    expect(fs.statSync(written).uid).toBe(61030);
  });
});
