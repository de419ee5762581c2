/** Starts in-process agents against a FakeServer with test providers and the real artifact store. */
import os from "node:os";
import path from "node:path";
import { createArtifactStore } from "../../src/artifacts";
import type { AgentConfig } from "../../src/config";
import { silentLogger, createLogger } from "../../src/logger";
import { formatActionTypeId, type OutputSpec, type Provider } from "../../src/providers/types";
import type { StoredArtifact } from "@sluice/protocol";
import type { AgentDependencies } from "../../src/agent";
import { startAgentWith, type RunningAgent } from "../../src/runtime/start";
import { NATS_URL, type FakeServer } from "./fake-server";

export const TEST_TOKEN = "sat_test_token_0123456789";

export function agentConfig(server: FakeServer, overrides: Partial<AgentConfig> = {}): AgentConfig {
  return {
    natsServers: [NATS_URL],
    // Artifacts move through the fake server's HTTP routes; NATS has no authentication.
    serverUrl: server.url,
    natsInsecure: true,
    token: TEST_TOKEN,
    name: "test-agent",
    pool: "default",
    labels: { os: "linux" },
    providers: [],
    handlers: {},
    concurrency: 2,
    workDir: path.join(os.tmpdir(), `sluice-agent-test-${server.prefix}`),
    prefix: server.prefix,
    drainTimeoutSeconds: 30,
    logCapBytes: 1024 * 1024,
    logLevel: "silent",
    ...overrides,
  };
}

export async function startTestAgent(
  server: FakeServer,
  providers: Provider[],
  overrides: Partial<AgentConfig> = {},
  deps: Partial<AgentDependencies> = {},
): Promise<RunningAgent> {
  const config = agentConfig(server, { ...overrides, providers: providers.map((p) => p.id) });
  return startAgentWith(config, {
    logger: process.env.AGENT_TEST_LOGS ? createLogger("debug") : silentLogger(),
    providers: new Map(providers.map((p) => [formatActionTypeId(p.id), p])),
    artifactStore: (access) => createArtifactStore(access),
    ...deps,
  });
}

/** Stops an agent and waits for it, forcing it if it does not leave within `ms`. */
export async function stopAgent(agent: RunningAgent | undefined, ms = 10_000): Promise<number | undefined> {
  if (!agent) return undefined;
  agent.stop();
  const timer = setTimeout(() => agent.stop({ force: true }), ms);
  try {
    return await agent.done;
  } finally {
    clearTimeout(timer);
  }
}

const PRODUCER = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" } as const;

/**
 * Stores `spec` as the output `name` of a job of its own (made and allowed on `server`, never
 * published), through the artifact routes as an agent does: an input for the jobs a test sends.
 */
export async function storeArtifact(
  server: FakeServer,
  name: string,
  spec: OutputSpec,
): Promise<StoredArtifact> {
  const job = server.job(PRODUCER, { outputArtifacts: [{ name }] });
  server.allowJob(job);
  return createArtifactStore({ serverUrl: server.url, token: TEST_TOKEN }).upload(name, spec, job);
}

/** Downloads `artifact` into `destination` as the input of a job of its own (made and allowed on `server`). */
export async function fetchArtifact(
  server: FakeServer,
  artifact: StoredArtifact,
  destination: string,
): Promise<void> {
  const job = server.job(PRODUCER, { inputArtifacts: [artifact] });
  server.allowJob(job);
  await createArtifactStore({ serverUrl: server.url, token: TEST_TOKEN }).download(
    artifact,
    destination,
    job,
  );
}
