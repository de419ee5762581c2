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
}

export async function startAgentWith(config: AgentConfig, deps: AgentDependencies): Promise<RunningAgent> {
  const agent = new Agent(config, deps);
  await agent.start();
  return {
    agentId: agent.agentId,
    stop: (options) => agent.stop(options),
    done: agent.done,
    get fatalMessage() {
      return agent.fatalError?.message;
    },
  };
}
