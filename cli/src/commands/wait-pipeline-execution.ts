import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { waitAndReport } from "../execution-wait";
import { timeoutSeconds } from "../options";

export function register(program: Command, context: ContextFactory): void {
  program
    .command("wait-pipeline-execution")
    .description("Follow an execution until it ends (exit 0 only if it succeeded).")
    .requiredOption("--pipeline-execution-id <id>", "pipeline execution id")
    .option("--timeout <seconds>", "give up waiting after this long (exit 1)", timeoutSeconds)
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<{ pipelineExecutionId: string; timeout?: number }>();
      await waitAndReport(ctx, opts.pipelineExecutionId, opts.timeout);
    });
}
