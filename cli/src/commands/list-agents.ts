import { Option, type Command } from "commander";
import type { ContextFactory } from "../context";
import { allNodes, PAGE_FIELDS, type Page } from "../pagination";

export const LIST_AGENTS_QUERY = `query($pool:String,$status:AgentStatus,$first:Int!,$after:String){ agentsV2(pool:$pool, status:$status, first:$first, after:$after){ nodes{ id name pool labels providers{ category owner provider version } version status capacity runningJobs lastHeartbeat revoked } ${PAGE_FIELDS} } }`;
export const AGENT_STATUSES = ["online", "busy", "draining", "offline"] as const;

interface ListAgentsData {
  agentsV2: Page<unknown>;
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
      const agents = await allNodes(
        async (first, after) =>
          (
            await ctx.request<ListAgentsData>(LIST_AGENTS_QUERY, {
              pool: pool ?? null,
              status: status ?? null,
              first,
              after,
            })
          ).agentsV2,
      );
      ctx.print(agents);
    });
}
