/**
 * The environment a job's processes see, and the SLUICE_OUTPUT file through which they hand back
 * output variables. Built from scratch: the agent's own environment holds SLUICE_AGENT_TOKEN and
 * whatever else the host set, none of which a pipeline may read.
 */
import { mkdirSync, statSync, readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { LIMITS, PATTERNS, type FailureCause } from "@sluice/protocol";
import { givePaths, realPathInside, type JobUser } from "../exec/job-users";
import type { JobContext, LogSink, ProviderResult } from "./types";

/** The directory inside the workspace where providers keep their own files (tmp, scripts, outputs). */
export const INTERNAL_DIR = ".sluice-job";
/** HOME of a job that runs as a uid of the agent's range (no home of its own): in its workspace. */
export const JOB_HOME_DIR = path.join(INTERNAL_DIR, "home");

/** Files up to this size are read synchronously. */
const SMALL_FILE_BYTES = 256 * 1024;

const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * The few host variables a command needs to behave normally; nothing that could carry a secret.
 * A job that runs as `user` gets that user's name and home (its workspace's JOB_HOME_DIR when it
 * has none).
 */
export function baseEnvironment(
  tmpDir: string,
  jobUser?: JobUser,
  workspace?: string,
): Record<string, string> {
  if (jobUser) {
    return {
      PATH: process.env.PATH || DEFAULT_PATH,
      HOME: jobUser.home ?? (workspace ? path.join(workspace, JOB_HOME_DIR) : tmpDir),
      LANG: process.env.LANG || "C.UTF-8",
      USER: jobUser.name,
      LOGNAME: jobUser.name,
      SHELL: "/bin/bash",
      TMPDIR: tmpDir,
    };
  }
  let user = process.env.USER;
  if (!user) {
    try {
      user = os.userInfo().username;
    } catch {
      user = "sluice";
    }
  }
  return {
    PATH: process.env.PATH || DEFAULT_PATH,
    HOME: process.env.HOME || os.homedir(),
    LANG: process.env.LANG || "C.UTF-8",
    USER: user,
    SHELL: "/bin/bash",
    TMPDIR: tmpDir,
  };
}

/** A variable name a shell can use: artifact names may hold "-", which `$NAME` cannot. */
function shellSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9_]/g, "_");
}

export interface JobEnvironment {
  env: Record<string, string>;
  /** The SLUICE_OUTPUT file; read it with `readOutputVariables` after the commands ran. */
  outputFile: string;
  /** Private to the job: TMPDIR, scripts, job files. */
  internalDir: string;
}

/** A configuration problem found while preparing: the provider returns it as its result. */
export function configurationError(
  message: string,
  code = "ConfigurationError",
  failureCause: FailureCause = "ConfigurationInvalid",
): ProviderResult {
  return {
    outcome: "Failed",
    failureType: "ConfigurationError",
    failureCause,
    summary: truncate(message, LIMITS.summaryLength),
    errorDetails: { message: truncate(message, LIMITS.errorMessageLength), code },
  };
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * Parses a configuration value that must be a JSON object of strings (EnvironmentVariables,
 * Headers). Returns the object, or an error message naming `key`.
 */
export function parseStringMap(
  key: string,
  value: string | undefined,
): { ok: true; map: Record<string, string> } | { ok: false; message: string } {
  if (value === undefined || value.trim() === "") return { ok: true, map: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    return {
      ok: false,
      message: `${key} must be a JSON object of strings, e.g. {"NAME":"value"}: ${(error as Error).message}`,
    };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { ok: false, message: `${key} must be a JSON object of strings, e.g. {"NAME":"value"}` };
  }
  const map: Record<string, string> = {};
  for (const [name, item] of Object.entries(parsed)) {
    if (typeof item !== "string") {
      return { ok: false, message: `${key}: the value of ${JSON.stringify(name)} must be a string` };
    }
    map[name] = item;
  }
  return { ok: true, map };
}

/**
 * Creates the job's private directory and returns the environment for its processes, or a
 * ConfigurationError result when EnvironmentVariables is malformed.
 */
export async function prepareJobEnvironment(
  context: JobContext,
  extra: Record<string, string> = {},
  /** Files to write into the private directory too (file name → content, mode 0600), at once. */
  files: Readonly<Record<string, string>> = {},
): Promise<JobEnvironment | ProviderResult> {
  const { job, workspace } = context;
  const internalDir = path.join(workspace, INTERNAL_DIR);
  const tmpDir = path.join(internalDir, "tmp");
  // A directory and a few small files in the job's fresh workspace: synchronous calls take a
  // tenth of the time (and CPU) of the thread pool's round trips for work this small.
  mkdirSync(tmpDir, { recursive: true });
  const outputFile = path.join(internalDir, "output.env");
  writeFileSync(outputFile, "");
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(path.join(internalDir, name), content, { mode: 0o600 });
  }
  if (context.user) {
    const made = [
      internalDir,
      tmpDir,
      outputFile,
      ...Object.keys(files).map((n) => path.join(internalDir, n)),
    ];
    if (!context.user.home) {
      const home = path.join(workspace, JOB_HOME_DIR);
      mkdirSync(home, { recursive: true, mode: 0o700 });
      made.push(home);
    }
    givePaths(made, context.user);
  }

  const env = baseEnvironment(tmpDir, context.user, workspace);
  const put = (name: string, value: string) => {
    env[name] = value;
  };
  put("CI", "true");
  put("SLUICE_PIPELINE_NAME", job.pipelineName);
  put("SLUICE_STAGE_NAME", job.stageName);
  put("SLUICE_ACTION_NAME", job.actionName);
  put("SLUICE_EXECUTION_ID", job.executionId);
  put("SLUICE_JOB_ID", job.jobId);
  put("SLUICE_ATTEMPT", String(job.attempt));
  put("SLUICE_POOL", job.pool);
  put("SLUICE_AGENT_NAME", context.agent.name);
  put("SLUICE_WORKSPACE", workspace);
  if (job.sourceRevision) put("SLUICE_REVISION_ID", job.sourceRevision.revisionId);
  for (const [name, dir] of context.inputs) {
    put(`SLUICE_INPUT_${name}`, dir);
    const alias = `SLUICE_INPUT_${shellSafe(name)}`;
    if (!(alias in env)) put(alias, dir);
  }
  for (const [name, value] of Object.entries(job.context.variables)) {
    put(`SLUICE_VAR_${name}`, value);
    const alias = `SLUICE_VAR_${shellSafe(name)}`;
    if (!(alias in env)) put(alias, value);
  }
  put("SLUICE_OUTPUT", outputFile);
  // git in a workspace without its own .git must not find a repository the work directory happens
  // to sit in (the agent's checkout, a home directory under git): a `git clean -fdx` would run there.
  put("GIT_CEILING_DIRECTORIES", path.dirname(workspace));
  Object.assign(env, extra);

  const custom = parseStringMap("EnvironmentVariables", job.configuration.EnvironmentVariables);
  if (!custom.ok) return configurationError(custom.message);
  for (const [name, value] of Object.entries(custom.map)) {
    if (name === "" || name.includes("=") || name.includes("\0") || value.includes("\0")) {
      return configurationError(
        `EnvironmentVariables: ${JSON.stringify(name)} is not a valid environment variable name`,
      );
    }
    env[name] = value;
  }
  return { env, outputFile, internalDir };
}

export function isResult(value: JobEnvironment | ProviderResult): value is ProviderResult {
  return "outcome" in value;
}

/**
 * Reads NAME=value lines from the SLUICE_OUTPUT file. Bad lines are reported on `log` and skipped
 * rather than failing the job: the commands succeeded, a stray line should not undo that.
 * Returns an error message when the variables together exceed the protocol's size limit.
 */
export async function readOutputVariables(
  file: string,
  log: LogSink,
  /** The job's workspace: a SLUICE_OUTPUT that leads outside it (a planted link) is not read. */
  workspace?: string,
): Promise<{ variables: Record<string, string>; error?: string }> {
  if (workspace !== undefined && (await realPathInside(workspace, file)) === null) {
    log.system("SLUICE_OUTPUT ignored: it leads outside the job's workspace");
    return { variables: {} };
  }
  let text: string;
  try {
    // Usually empty or a few lines: read at once; a large one through the thread pool.
    text =
      statSync(file).size <= SMALL_FILE_BYTES ? readFileSync(file, "utf8") : await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { variables: {} };
    throw error;
  }
  const variables: Record<string, string> = {};
  const lines = text.split("\n");
  lines.forEach((raw, index) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() === "") return;
    const eq = line.indexOf("=");
    const name = eq < 0 ? line : line.slice(0, eq);
    if (eq < 0 || !PATTERNS.variableName.regex.test(name)) {
      log.system(
        `SLUICE_OUTPUT line ${index + 1} ignored: expected NAME=value with NAME of ${PATTERNS.variableName.rule}`,
      );
      return;
    }
    variables[name] = line.slice(eq + 1);
  });
  let bytes = 0;
  for (const [name, value] of Object.entries(variables)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  if (bytes > LIMITS.outputVariablesBytes) {
    return {
      variables: {},
      error: `output variables take ${bytes} bytes, more than the limit of ${LIMITS.outputVariablesBytes}`,
    };
  }
  return { variables };
}
