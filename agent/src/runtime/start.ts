/**
 * Starting an agent from resolved settings and explicit providers; index.ts adds the defaults
 * (the provider registry, the artifact store), tests pass their own.
 */
import { Agent, type AgentDependencies } from "../agent";
import type { AgentConfig } from "../config";

export interface RunningAgent {
  /** The id the server gave this agent at registration. */
  readonly agentId: string;
  /** Drain (like SIGTERM); again, or with `force`, abort running jobs at once (a second SIGTERM). */
  stop(options?: { force?: boolean }): void;
  /** The exit status: 0 after a drain, 3 when refused or revoked, 1 when NATS closed for good. */
  readonly done: Promise<number>;
  /** The server's message when the agent exits with status 3. */
  readonly fatalMessage: string | undefined;
  /** The port of GET /metrics, when the agent serves metrics. */
  readonly metricsPort: number | undefined;
}

export async function startAgentWith(config: AgentConfig, deps: AgentDependencies): Promise<RunningAgent> {
  const agent = new Agent(config, deps);
  // Metrics first: a port that is taken stops the agent before it registers, with one clear error.
  let metricsPort: number | undefined;
  if (deps.metrics && config.metricsPort !== undefined) {
    try {
      metricsPort = await deps.metrics.listen(config.metricsPort, config.metricsHost ?? "127.0.0.1");
    } catch (error) {
      throw new Error(
        `cannot serve metrics on ${config.metricsHost ?? "127.0.0.1"}:${config.metricsPort}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  try {
    await agent.start();
  } catch (error) {
    await deps.metrics?.close();
    throw error;
  }
  void agent.done.finally(() => deps.metrics?.close());
  return {
    metricsPort,
    agentId: agent.agentId,
    stop: (options) => agent.stop(options),
    done: agent.done,
    get fatalMessage() {
      return agent.fatalError?.message;
    },
  };
}
