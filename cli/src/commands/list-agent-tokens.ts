import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { allNodes, PAGE_FIELDS, type Page } from "../pagination";

export const AGENT_TOKEN_FIELDS = "id description createdAt createdBy revokedAt revokedBy";
export const LIST_AGENT_TOKENS_QUERY = `query($first:Int!,$after:String){ agentTokensV2(first:$first,after:$after){ nodes{ ${AGENT_TOKEN_FIELDS} } ${PAGE_FIELDS} } }`;

export interface AgentToken {
  id: string;
  description: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

interface ListAgentTokensData {
  agentTokensV2: Page<AgentToken>;
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("list-agent-tokens")
    .description("List agent tokens, oldest first (never the secrets). Prints a JSON array.")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const tokens = await allNodes(
        async (first, after) =>
          (await ctx.request<ListAgentTokensData>(LIST_AGENT_TOKENS_QUERY, { first, after })).agentTokensV2,
      );
      ctx.print(tokens);
    });
}
