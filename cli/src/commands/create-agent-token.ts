import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { UsageError } from "../errors";

export const CREATE_AGENT_TOKEN_MUTATION =
  "mutation($description:String!){ createAgentTokenV2(input:{description:$description}){ id token } }";
export const STORE_TOKEN_NOTICE = "Store this token now: it is not shown again.";

interface CreateAgentTokenData {
  createAgentTokenV2: { id: string; token: string };
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("create-agent-token")
    .description("Create a token agents register with. Prints { id, token }; the token is shown only once.")
    .requiredOption("--description <text>", "what the token is for, e.g. the agent pool or host")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { description } = command.opts<{ description: string }>();
      if (description.trim() === "") throw new UsageError("--description must not be empty");
      const data = await ctx.request<CreateAgentTokenData>(CREATE_AGENT_TOKEN_MUTATION, { description });
      const { id, token } = data.createAgentTokenV2;
      ctx.print({ id, token });
      ctx.notice(STORE_TOKEN_NOTICE);
    });
}
