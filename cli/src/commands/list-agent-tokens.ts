import type { Command } from "commander";
import type { ContextFactory } from "../context";

export const AGENT_TOKEN_FIELDS = "id description createdAt createdBy revokedAt revokedBy";
export const LIST_AGENT_TOKENS_QUERY = `query{ agentTokens{ ${AGENT_TOKEN_FIELDS} } }`;

export interface AgentToken {
  id: string;
  description: string;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
  revokedBy: string | null;
}

interface ListAgentTokensData {
  agentTokens: AgentToken[];
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("list-agent-tokens")
    .description("List agent tokens, oldest first (never the secrets). Prints a JSON array.")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const data = await ctx.request<ListAgentTokensData>(LIST_AGENT_TOKENS_QUERY);
      ctx.print(data.agentTokens);
    });
}
