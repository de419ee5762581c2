import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { requireObject } from "../options";

const DECLARATION =
  "id{ category owner provider version } settings{ entityUrlTemplate executionUrlTemplate revisionUrlTemplate thirdPartyConfigurationUrl } configurationProperties{ name required secret queryable description type } inputArtifactDetails{ minimumCount maximumCount } outputArtifactDetails{ minimumCount maximumCount }";
export const CREATE_CUSTOM_ACTION_TYPE_MUTATION = `mutation($input:CustomActionTypeInput!){ createCustomActionTypeV2(input:{actionType:$input}){ actionType{ ${DECLARATION} } } }`;
export const DELETE_CUSTOM_ACTION_TYPE_MUTATION =
  "mutation($category:String!,$provider:String!,$version:String!){ deleteCustomActionTypeV2(input:{category:$category, provider:$provider, version:$version}){ deletedActionTypeId{ category owner provider version } } }";

/** The keys of `aws codepipeline create-custom-action-type --cli-input-json` that Sluice keeps (not `tags`). */
const INPUT_KEYS = [
  "category",
  "provider",
  "version",
  "settings",
  "configurationProperties",
  "inputArtifactDetails",
  "outputArtifactDetails",
] as const;

interface Declaration {
  configurationProperties: unknown[];
  [field: string]: unknown;
}

/** `create-custom-action-type` and `delete-custom-action-type`, as `aws codepipeline` has them. */
export function register(program: Command, context: ContextFactory): void {
  program
    .command("create-custom-action-type")
    .description("Add an owner Custom action type, from the AWS CLI's create-custom-action-type input.")
    .requiredOption("--cli-input-json <json>", "file://path, - (stdin) or the JSON itself")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { cliInputJson } = command.opts<{ cliInputJson: string }>();
      const value = requireObject(await ctx.readInput(cliInputJson), "a custom action type");
      const input = Object.fromEntries(INPUT_KEYS.filter((k) => k in value).map((k) => [k, value[k]]));
      const data = await ctx.request<{ createCustomActionTypeV2: { actionType: Declaration } }>(
        CREATE_CUSTOM_ACTION_TYPE_MUTATION,
        { input },
      );
      // AWS's output: { actionType: { id, settings, actionConfigurationProperties, ...ArtifactDetails } }
      const { configurationProperties, ...rest } = data.createCustomActionTypeV2.actionType;
      ctx.print({ actionType: { ...rest, actionConfigurationProperties: configurationProperties } });
    });
  program
    .command("delete-custom-action-type")
    .description("Remove a custom action type no pipeline uses.")
    .requiredOption("--category <category>", "Source, Build, Deploy, Test, Invoke or Approval")
    .requiredOption("--provider <provider>", "the action type's provider")
    .requiredOption("--version <version>", "the action type's version")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const variables = command.opts<{ category: string; provider: string; version: string }>();
      // An unknown one: the server answers NOT_FOUND, which fails the command.
      await ctx.request<{ deleteCustomActionTypeV2: { deletedActionTypeId: unknown } }>(
        DELETE_CUSTOM_ACTION_TYPE_MUTATION,
        variables,
      );
    });
}
