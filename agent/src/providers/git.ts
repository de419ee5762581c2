/**
 * `Source/Sluice/Git@1`: fetches a branch (or the exact commit the execution pinned) with the git
 * binary and hands over the checkout, without `.git`, as the output artifact.
 */
import { mkdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { FailureType } from "@sluice/protocol";
import { LIMITS } from "@sluice/protocol";
import { givePaths } from "../exec/job-users";
import { runProcess, type ProcessResult } from "../exec/process";
import { INTERNAL_DIR, JOB_HOME_DIR, baseEnvironment, configurationError, truncate } from "./environment";
import { topLevelEntries } from "./files";
import { failed, guarded, stopped } from "./results";
import type { JobContext, OutputSpec, Provider, ProviderResult } from "./types";

/** Forms of Repository this provider accepts; anything else is a configuration error. */
function repositoryKind(repository: string): "path" | "file" | "url" | "scp" | undefined {
  if (repository.startsWith("-")) return undefined;
  if (path.isAbsolute(repository)) return "path";
  if (/^file:\/\//.test(repository)) return "file";
  if (/^(https?|ssh|git):\/\/[^/]+/.test(repository)) return "url";
  if (/^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/]/.test(repository)) return "scp";
  return undefined;
}

/** Credentials in a URL never reach the log or a summary. */
export function redactUrl(text: string): string {
  return text.replace(/^([a-z+]+:\/\/)[^/@]*@/i, "$1***@");
}

/** "https://host/team/app.git" → "app". */
export function repositoryName(repository: string): string {
  const trimmed = repository.replace(/\/+$/, "").replace(/\.git$/, "");
  const last = trimmed.split(/[/:]/).pop() ?? "";
  return last === "" ? "repository" : last;
}

/** A branch name git would accept, and that cannot pass for an option. */
function validBranch(branch: string): boolean {
  return (
    /^[^\s~^:?*[\\]+$/.test(branch) &&
    ![...branch].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) &&
    !branch.startsWith("-") &&
    !branch.startsWith("/") &&
    !branch.endsWith("/") &&
    !branch.endsWith(".lock") &&
    !branch.includes("..") &&
    !branch.includes("@{") &&
    !branch.includes("//")
  );
}

/** Reads git's (English, LC_ALL=C) complaint to tell a network problem from a wrong setting. */
export function classifyGitFailure(stderr: string): FailureType {
  if (
    /Authentication failed|Permission denied|could not read (Username|Password)|terminal prompts disabled|Access denied|returned error: 40[13]|Host key verification failed/i.test(
      stderr,
    )
  ) {
    return "PermissionError";
  }
  if (
    /Could not resolve host|Connection refused|Connection timed out|timed out|Network is unreachable|No route to host|Failed to connect|Could not connect|early EOF|remote end hung up|Temporary failure|returned error: 5\d\d|SSL|TLS|gnutls/i.test(
      stderr,
    )
  ) {
    return "SystemUnavailable";
  }
  if (
    /does not appear to be a git repository|not a git repository|not found|No such file or directory|does not exist|couldn't find remote ref|not our ref|no such remote ref/i.test(
      stderr,
    )
  ) {
    return "ConfigurationError";
  }
  return "SystemUnavailable";
}

/** The line of git's stderr that says what went wrong: its first "fatal:" or "error:", else the last. */
function mainComplaint(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
  const fatal = lines.find((l) => /^(fatal|error): /.test(l));
  return (fatal ?? lines.pop() ?? "").replace(/^(fatal|error): /, "");
}

export function createGitProvider(): Provider {
  return {
    id: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
    run(context: JobContext): Promise<ProviderResult> {
      return guarded(async () => {
        const { job, log, workspace } = context;
        const repository = job.configuration.Repository?.trim() ?? "";
        const branch = job.configuration.Branch?.trim() ?? "";
        if (repository === "")
          return configurationError("Repository is required: the git repository to fetch");
        const kind = repositoryKind(repository);
        if (kind === undefined) {
          return configurationError(
            `Repository ${JSON.stringify(redactUrl(repository))} is not a git repository location: use an absolute path, file://, https://, ssh:// or user@host:path`,
          );
        }
        if (branch === "") return configurationError("Branch is required: the branch to fetch");
        if (!validBranch(branch))
          return configurationError(`Branch ${JSON.stringify(branch)} is not a valid branch name`);
        const shown = redactUrl(repository);

        let local: string | undefined;
        if (kind === "path" || kind === "file") {
          local = kind === "path" ? repository : decodeURIComponent(new URL(repository).pathname);
          const found = await stat(local).catch(() => undefined);
          if (!found?.isDirectory()) {
            return failed(
              "ConfigurationError",
              `Repository ${local} does not exist on this agent`,
              "RepositoryNotFound",
            );
          }
        }

        const pinned = job.sourceRevision?.revisionId.trim();
        if (pinned !== undefined && !/^[0-9a-fA-F]{4,64}$/.test(pinned)) {
          return failed(
            "RevisionUnavailable",
            `Revision ${JSON.stringify(truncate(pinned, 100))} is not a git commit id`,
            "RevisionUnavailable",
          );
        }

        const internal = path.join(workspace, INTERNAL_DIR);
        const tmp = path.join(internal, "tmp");
        const checkout = path.join(internal, "checkout");
        await mkdir(tmp, { recursive: true });
        const env: Record<string, string> = {
          ...baseEnvironment(tmp, context.user, workspace),
          LC_ALL: "C",
          GIT_TERMINAL_PROMPT: "0",
          GIT_SSH_COMMAND: "ssh -o BatchMode=yes",
          GIT_CONFIG_NOSYSTEM: "1",
        };
        // The agent's ssh-agent is not lent to a job that runs as another user.
        if (process.env.SSH_AUTH_SOCK && !context.user) env.SSH_AUTH_SOCK = process.env.SSH_AUTH_SOCK;
        const made = [internal, tmp, checkout];
        if (context.user && !context.user.home) {
          const home = path.join(workspace, JOB_HOME_DIR);
          await mkdir(home, { recursive: true, mode: 0o700 });
          made.push(home);
        }
        if (context.user && local !== undefined) {
          // A local repository owned by another user (the agent's, root) is one git refuses to read
          // ("dubious ownership") unless its global configuration says it is safe.
          const config = path.join(internal, "gitconfig");
          const quoted = (p: string) => `"${p.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
          const safe = [local, path.join(local, ".git")].map((d) => `\tdirectory = ${quoted(d)}\n`).join("");
          await writeFile(config, `[safe]\n${safe}`, { mode: 0o600 });
          made.push(config);
          env.GIT_CONFIG_GLOBAL = config;
        }

        const git = (args: string[], capture = false): Promise<ProcessResult> =>
          runProcess({
            argv: ["git", "-c", "core.hooksPath=/dev/null", "-c", "advice.detachedHead=false", ...args],
            cwd: checkout,
            env,
            log,
            signal: context.signal,
            captureStdout: capture,
            logStdout: !capture,
            ...(context.user ? { user: context.user } : {}),
          });
        /** The failure for a git command that went wrong, classified from its stderr. */
        const gitFailed = (what: string, result: ProcessResult, code: string): ProviderResult => {
          const reason = mainComplaint(result.stderrTail) || `git exited with status ${result.exitCode}`;
          return failed(
            classifyGitFailure(result.stderrTail),
            `${what}: ${reason}`,
            code,
            result.stderrTail.trim() || reason,
          );
        };

        await mkdir(checkout, { recursive: true });
        givePaths(made, context.user);
        let result = await git(["init", "--quiet", "--template=", "."]);
        if (result.aborted) return stopped(context);
        if (result.exitCode !== 0) return gitFailed("git init failed", result, "GitInitFailed");
        result = await git(["remote", "add", "origin", repository]);
        if (result.aborted) return stopped(context);
        if (result.exitCode !== 0) return gitFailed("git remote add failed", result, "GitRemoteFailed");

        const remoteRef = `refs/remotes/origin/${branch}`;
        const fetchBranch = (depth: string[]) =>
          git(["fetch", "--quiet", "--no-tags", ...depth, "origin", `+refs/heads/${branch}:${remoteRef}`]);
        let commit: string;
        if (pinned === undefined) {
          log.system(`Fetching branch ${branch} of ${shown}`);
          result = await fetchBranch(["--depth=1"]);
          if (result.aborted) return stopped(context);
          if (result.exitCode !== 0) {
            if (/couldn't find remote ref/i.test(result.stderrTail)) {
              return failed(
                "ConfigurationError",
                `Branch ${branch} does not exist in ${shown}`,
                "BranchNotFound",
              );
            }
            return gitFailed(`Could not fetch ${shown}`, result, "FetchFailed");
          }
          result = await git(["rev-parse", "--verify", `${remoteRef}^{commit}`], true);
          if (result.aborted) return stopped(context);
          if (result.exitCode !== 0)
            return gitFailed(`Could not read branch ${branch}`, result, "FetchFailed");
          commit = result.stdout.trim();
        } else {
          log.system(`Fetching commit ${pinned} on branch ${branch} of ${shown}`);
          result = await fetchBranch([]);
          if (result.aborted) return stopped(context);
          // A deleted branch does not matter when the commit can be fetched by itself.
          if (result.exitCode !== 0 && !/couldn't find remote ref/i.test(result.stderrTail)) {
            return gitFailed(`Could not fetch ${shown}`, result, "FetchFailed");
          }
          const resolve = () => git(["rev-parse", "--quiet", "--verify", `${pinned}^{commit}`], true);
          result = await resolve();
          if (result.aborted) return stopped(context);
          if (result.exitCode !== 0 && pinned.length === 40) {
            log.system(`Commit ${pinned} is not on branch ${branch}; fetching it by id`);
            const bySha = await git(["fetch", "--quiet", "--no-tags", "origin", pinned]);
            if (bySha.aborted) return stopped(context);
            if (bySha.exitCode !== 0 && classifyGitFailure(bySha.stderrTail) !== "ConfigurationError") {
              return gitFailed(`Could not fetch commit ${pinned} from ${shown}`, bySha, "FetchFailed");
            }
            result = await resolve();
            if (result.aborted) return stopped(context);
          }
          if (result.exitCode !== 0) {
            return failed(
              "RevisionUnavailable",
              `Commit ${pinned} does not exist in ${shown} (branch ${branch})`,
              "RevisionUnavailable",
            );
          }
          commit = result.stdout.trim();
        }

        result = await git(["checkout", "--quiet", "--force", "--detach", commit]);
        if (result.aborted) return stopped(context);
        if (result.exitCode !== 0)
          return gitFailed(`Could not check out ${commit}`, result, "CheckoutFailed");

        result = await git(["log", "-1", "--format=%H%x00%s%x00%an%x00%ae%x00%aI%x00%cI", commit], true);
        if (result.aborted) return stopped(context);
        if (result.exitCode !== 0)
          return gitFailed(`Could not read commit ${commit}`, result, "GitLogFailed");
        const [
          commitId = commit,
          subject = "",
          authorName = "",
          authorEmail = "",
          authorDate = "",
          committerDate = "",
        ] = result.stdout.replace(/\n$/, "").split("\0");
        log.system(`Checked out ${commitId}${subject ? `: ${subject}` : ""}`);

        const files = await topLevelEntries(checkout, [".git"]);
        const outputs: Record<string, OutputSpec> = {};
        for (const { name } of job.outputArtifacts) outputs[name] = { root: checkout, files };
        return {
          outcome: "Succeeded",
          summary: truncate(subject || `Commit ${commitId}`, LIMITS.summaryLength),
          outputVariables: {
            CommitId: commitId,
            BranchName: branch,
            CommitMessage: truncate(subject, LIMITS.summaryLength),
            AuthorName: authorName,
            AuthorEmail: authorEmail,
            AuthorDate: authorDate,
            CommitterDate: committerDate,
            RepositoryName: repositoryName(repository),
          },
          outputs,
        };
      });
    },
  };
}
