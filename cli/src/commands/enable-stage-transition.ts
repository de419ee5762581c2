import type { Command } from "commander";
import type { ContextFactory } from "../context";
import {
  TOGGLE_TRANSITION_MUTATION,
  transitionTypeOption,
  type ToggleTransitionData,
} from "./disable-stage-transition";

export function register(program: Command, context: ContextFactory): void {
  program
    .command("enable-stage-transition")
    .description("Let executions into a stage again (the one waiting at its entry goes in).")
    .requiredOption("--name <name>", "pipeline name")
    .requiredOption("--stage-name <name>", "the stage whose entry to open")
    .addOption(transitionTypeOption())
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<{ name: string; stageName: string }>();
      const data = await ctx.request<ToggleTransitionData>(TOGGLE_TRANSITION_MUTATION, {
        pipelineName: opts.name,
        stageName: opts.stageName,
        enabled: true,
        reason: null,
      });
      ctx.print(data.toggleTransition);
    });
}
