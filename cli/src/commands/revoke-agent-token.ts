import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { AGENT_TOKEN_FIELDS, type AgentToken } from "./list-agent-tokens";

export const REVOKE_AGENT_TOKEN_MUTATION = `mutation($id:ID!){ revokeAgentTokenV2(input:{id:$id}){ agentToken{ ${AGENT_TOKEN_FIELDS} } } }`;

interface RevokeAgentTokenData {
  revokeAgentTokenV2: { agentToken: AgentToken };
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("revoke-agent-token")
    .description("Revoke an agent token: its agents are refused from now on. Prints the revoked token.")
    .requiredOption("--id <id>", "token id (from create-agent-token or list-agent-tokens)")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { id } = command.opts<{ id: string }>();
      const data = await ctx.request<RevokeAgentTokenData>(REVOKE_AGENT_TOKEN_MUTATION, { id });
      ctx.print(data.revokeAgentTokenV2.agentToken);
    });
}
