/**
 * @sluice/agent: run a Sluice build agent in-process (tests, bench, embedding) with `startAgent`, or
 * from the command line with the `sluice-agent` bin (main.ts), which uses the same function.
 */
import os from "node:os";
import path from "node:path";
import { DEFAULT_POOL, DEFAULT_PREFIX, LIMITS } from "@sluice/protocol";
import type { AgentDependencies } from "./agent";
import { createArtifactStore } from "./artifacts";
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_DRAIN_TIMEOUT_SECONDS,
  DEFAULT_NATS_URL,
  defaultAgentName,
  type AgentConfig,
} from "./config";
import { DEFAULT_JOB_UID_RANGE, runsAsRoot } from "./exec/job-users";
import { createLogger, type Logger } from "./logger";
import { BUILTIN_PROVIDER_IDS, createProviders } from "./providers/registry";
import { formatActionTypeId, type Provider } from "./providers/types";
import { AgentMetrics } from "./metrics";
import { startAgentWith, type RunningAgent } from "./runtime/start";
import { AGENT_VERSION } from "./runtime/version";

export { AgentFatalError, AgentStopped } from "./agent";
export { parseConfig, type AgentConfig, type ConfigResult } from "./config";
export { JobLog, type ChunkPublisher, type JobLogOptions } from "./logs/log-sink";
export { createLogger, silentLogger, type Logger } from "./logger";
export { AGENT_VERSION } from "./runtime/version";
export type { JobIsolation, JobUser } from "./exec/job-users";
export type { RunningAgent } from "./runtime/start";

export interface AgentOptions extends Partial<AgentConfig> {
  /** The agent's token (8–512 characters). */
  token: string;
  /** Default: a pino logger on stderr at `logLevel`. */
  logger?: Logger;
  /**
   * Providers to run instead of the registry's built-ins and handlers: each one's `id` is
   * registered and pulled. For tests and embedders with their own action types.
   */
  providerImplementations?: readonly Provider[];
  /** Aborting it stops a registration that is still waiting for a server. */
  signal?: AbortSignal;
  /** Largest output artifact, in bytes (the artifact store's default when absent). */
  maxArtifactBytes?: number;
}

/** Resolves once the agent is registered and pulling jobs; rejects with AgentFatalError (exit 3). */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const config = resolveConfig(options);
  const providers = options.providerImplementations
    ? new Map(options.providerImplementations.map((p) => [formatActionTypeId(p.id), p]))
    : createProviders(config.providers, config.handlers);
  config.providers = [...providers.values()].map((p) => p.id);
  const deps: AgentDependencies = {
    logger: options.logger ?? createLogger(config.logLevel),
    providers,
    artifactStore: (server) =>
      createArtifactStore({
        ...server,
        ...(options.maxArtifactBytes === undefined ? {} : { maxBytes: options.maxArtifactBytes }),
      }),
    signal: options.signal,
    ...(config.metricsPort === undefined
      ? {}
      : { metrics: new AgentMetrics(config.concurrency, { pool: config.pool, version: AGENT_VERSION }) }),
  };
  return startAgentWith(config, deps);
}

function resolveConfig(options: AgentOptions): AgentConfig {
  return {
    natsServers: options.natsServers ?? [DEFAULT_NATS_URL],
    ...(options.serverUrl === undefined ? {} : { serverUrl: options.serverUrl }),
    ...(options.natsInsecure === undefined ? {} : { natsInsecure: options.natsInsecure }),
    ...(options.natsCaFile === undefined ? {} : { natsCaFile: options.natsCaFile }),
    token: options.token,
    name: options.name ?? defaultAgentName(),
    pool: options.pool ?? DEFAULT_POOL,
    labels: options.labels ?? {},
    providers: options.providers ?? [...BUILTIN_PROVIDER_IDS],
    handlers: options.handlers ?? {},
    concurrency: options.concurrency ?? DEFAULT_CONCURRENCY,
    workDir: options.workDir ?? path.join(os.tmpdir(), "sluice-agent"),
    prefix: options.prefix ?? DEFAULT_PREFIX,
    drainTimeoutSeconds: options.drainTimeoutSeconds ?? DEFAULT_DRAIN_TIMEOUT_SECONDS,
    logCapBytes: options.logCapBytes ?? LIMITS.logBytesPerAttempt,
    logLevel: options.logLevel ?? "info",
    // Secure by default: a root agent runs each job as a uid of its own.
    jobIsolation:
      options.jobIsolation ??
      (runsAsRoot() ? { mode: "uid-range", ...DEFAULT_JOB_UID_RANGE } : { mode: "none", reason: "not-root" }),
    ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
    ...(options.metricsPort === undefined
      ? {}
      : { metricsPort: options.metricsPort, metricsHost: options.metricsHost ?? "127.0.0.1" }),
    ...(options.hostSecrets === undefined ? {} : { hostSecrets: options.hostSecrets }),
  };
}
