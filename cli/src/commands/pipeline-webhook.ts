import type { Command } from "commander";
import type { ContextFactory } from "../context";

export const CREATE_WEBHOOK_MUTATION =
  "mutation($pipelineName:String!){ putWebhook(input:{pipelineName:$pipelineName}){ url secret } }";
export const DELETE_WEBHOOK_MUTATION =
  "mutation($pipelineName:String!){ deleteWebhook(input:{pipelineName:$pipelineName}){ pipelineName } }";
export const STORE_SECRET_NOTICE =
  "Store this secret now: it is not shown again (creating again replaces it).";

/** `create-pipeline-webhook` and `delete-pipeline-webhook`: the pipeline's Git push webhook. */
export function register(program: Command, context: ContextFactory): void {
  program
    .command("create-pipeline-webhook")
    .description("Create the pipeline's webhook (or replace its secret). Prints { url, secret }.")
    .requiredOption("--pipeline-name <name>", "pipeline name")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { pipelineName } = command.opts<{ pipelineName: string }>();
      const data = await ctx.request<{ putWebhook: { url: string; secret: string } }>(
        CREATE_WEBHOOK_MUTATION,
        { pipelineName },
      );
      ctx.print({ webhook: data.putWebhook });
      ctx.notice(STORE_SECRET_NOTICE);
    });
  program
    .command("delete-pipeline-webhook")
    .description("Remove the pipeline's webhook: pushes are refused from now on.")
    .requiredOption("--pipeline-name <name>", "pipeline name")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { pipelineName } = command.opts<{ pipelineName: string }>();
      // None to remove: the server answers NOT_FOUND, which fails the command.
      await ctx.request<{ deleteWebhook: { pipelineName: string } }>(DELETE_WEBHOOK_MUTATION, {
        pipelineName,
      });
    });
}
