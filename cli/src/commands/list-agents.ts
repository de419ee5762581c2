import { Option, type Command } from "commander";
import type { ContextFactory } from "../context";

export const LIST_AGENTS_QUERY =
  "query($pool:String,$status:AgentStatus){ agents(pool:$pool, status:$status){ id name pool labels providers{ category owner provider version } version status capacity runningJobs lastHeartbeat revoked } }";
export const AGENT_STATUSES = ["online", "busy", "draining", "offline"] as const;

interface ListAgentsData {
  agents: unknown[];
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("list-agents")
    .description("List registered agents, by pool and name. Prints a JSON array.")
    .option("--pool <pool>", "only the agents of this pool")
    .addOption(new Option("--status <status>", "only the agents in this status").choices(AGENT_STATUSES))
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { pool, status } = command.opts<{ pool?: string; status?: string }>();
      const data = await ctx.request<ListAgentsData>(LIST_AGENTS_QUERY, {
        pool: pool ?? null,
        status: status ?? null,
      });
      ctx.print(data.agents);
    });
}
