/**
 * Secrets that never leave the agent's host: a configuration value may hold
 * `{{resolve:agent-env:NAME}}` (an environment variable of the agent) or
 * `{{resolve:agent-file:PATH}}` (a file under the agent's secret directory, PATH relative to it),
 * replaced on the agent just before the job runs. Only what the operator allowed is readable
 * (`--secret-env`, `--secret-dir`); the values are masked in the job's log like the server's secrets.
 */
import fs from "node:fs";
import path from "node:path";

const REFERENCE = /\{\{resolve:(agent-env|agent-file):([^{}]{1,1024})\}\}/g;

export interface HostSecrets {
  /** Environment variables a job may name. */
  env: readonly string[];
  /** The directory whose files a job may name. */
  dir?: string;
}

/** A reference that cannot be resolved: the message names the reference, never a value. */
export class HostReferenceError extends Error {
  override readonly name = "HostReferenceError";
}

export function hasHostReferences(configuration: Record<string, string>): boolean {
  return Object.values(configuration).some((value) => new RegExp(REFERENCE.source).test(value));
}

function readEnv(name: string, allowed: HostSecrets, environment: NodeJS.ProcessEnv): string {
  if (!allowed.env.includes(name))
    throw new HostReferenceError(
      `agent-env:${name} is not an environment variable this agent shares (--secret-env)`,
    );
  const value = environment[name];
  if (value === undefined) throw new HostReferenceError(`agent-env:${name} is not set on the agent's host`);
  return value;
}

function readFile(relative: string, allowed: HostSecrets): string {
  if (!allowed.dir)
    throw new HostReferenceError(`agent-file:${relative}: this agent has no secret directory (--secret-dir)`);
  let root: string;
  let file: string;
  try {
    root = fs.realpathSync(allowed.dir);
    file = fs.realpathSync(path.resolve(root, relative));
  } catch {
    throw new HostReferenceError(`agent-file:${relative} does not exist in the agent's secret directory`);
  }
  // Links and `..` are followed first: what counts is where the file really is.
  if (!file.startsWith(root + path.sep))
    throw new HostReferenceError(`agent-file:${relative} is outside the agent's secret directory`);
  try {
    return fs.readFileSync(file, "utf8").replace(/\r?\n$/, "");
  } catch {
    throw new HostReferenceError(`agent-file:${relative} cannot be read`);
  }
}

/** The configuration with every host reference replaced, and the values it read (to be masked). */
export function resolveHostReferences(
  configuration: Record<string, string>,
  allowed: HostSecrets,
  environment: NodeJS.ProcessEnv = process.env,
): { configuration: Record<string, string>; values: string[] } {
  const values: string[] = [];
  const resolved: Record<string, string> = {};
  for (const [key, value] of Object.entries(configuration)) {
    resolved[key] = value.replace(REFERENCE, (_match, kind: string, name: string) => {
      const read = kind === "agent-env" ? readEnv(name, allowed, environment) : readFile(name, allowed);
      values.push(read);
      return read;
    });
  }
  return { configuration: resolved, values };
}
