import { Option, type Command } from "commander";
import type { ContextFactory } from "../context";
import { UsageError } from "../errors";
import { alsoAwsName, awsName, requiredEitherName } from "../options";

const TRANSITION_FIELDS = "transition{ stageName enabled disabledReason disabledBy disabledAt }";
export const DISABLE_TRANSITION_MUTATION = `mutation($pipelineName:String!,$stageName:String!,$reason:String!){ disableStageTransition(input:{pipelineName:$pipelineName, stageName:$stageName, reason:$reason}){ ${TRANSITION_FIELDS} } }`;
export const ENABLE_TRANSITION_MUTATION = `mutation($pipelineName:String!,$stageName:String!){ enableStageTransition(input:{pipelineName:$pipelineName, stageName:$stageName}){ ${TRANSITION_FIELDS} } }`;

/** AWS scripts pass `--transition-type Inbound`; Sluice transitions are the stages' inbound ones. */
export function transitionTypeOption(): Option {
  return new Option("--transition-type <type>", "accepted for AWS CLI compatibility")
    .choices(["Inbound"])
    .default("Inbound");
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("disable-stage-transition")
    .description("Hold executions at a stage's entry until the transition is enabled again.")
    .option("--name <name>", `pipeline name ${alsoAwsName("--pipeline-name")}`)
    .addOption(awsName("--pipeline-name <name>"))
    .requiredOption("--stage-name <name>", "the stage whose entry to close (not the first stage)")
    .requiredOption("--reason <text>", "why, shown to whoever finds executions waiting")
    .addOption(transitionTypeOption())
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const opts = command.opts<{ stageName: string; reason: string }>();
      const pipelineName = requiredEitherName(command, "--name", "--pipeline-name");
      if (opts.reason.trim() === "") throw new UsageError("--reason must not be empty");
      const data = await ctx.request<{ disableStageTransition: { transition: unknown } }>(
        DISABLE_TRANSITION_MUTATION,
        { pipelineName, stageName: opts.stageName, reason: opts.reason },
      );
      ctx.print(data.disableStageTransition.transition);
    });
}
