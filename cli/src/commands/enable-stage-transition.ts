import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { alsoAwsName, awsName, requiredEitherName } from "../options";
import { ENABLE_TRANSITION_MUTATION, transitionTypeOption } from "./disable-stage-transition";

export function register(program: Command, context: ContextFactory): void {
  program
    .command("enable-stage-transition")
    .description("Let executions into a stage again (the one waiting at its entry goes in).")
    .option("--name <name>", `pipeline name ${alsoAwsName("--pipeline-name")}`)
    .addOption(awsName("--pipeline-name <name>"))
    .requiredOption("--stage-name <name>", "the stage whose entry to open")
    .addOption(transitionTypeOption())
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<{ stageName: string }>();
      const pipelineName = requiredEitherName(command, "--name", "--pipeline-name");
      const data = await ctx.request<{ enableStageTransition: { transition: unknown } }>(
        ENABLE_TRANSITION_MUTATION,
        { pipelineName, stageName: opts.stageName },
      );
      ctx.print(data.enableStageTransition.transition);
    });
}
