import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { allNodes, PAGE_FIELDS, type Page } from "../pagination";
import { UsageError } from "../errors";

/*
 * The secret store: `sluice put-secret NAME`, `sluice list-secrets`, `sluice delete-secret NAME`.
 * A value is never an argument (it would be in the shell's history and in `ps`): it comes from
 * standard input or a file, and no command prints it back.
 */

export const SECRET_FIELDS = "name description version createdBy createdAt updatedBy updatedAt";
export const PUT_SECRET_MUTATION = `mutation($name:String!,$value:String!,$description:String){ putSecretV2(input:{name:$name,value:$value,description:$description}){ secret{ ${SECRET_FIELDS} } } }`;
export const LIST_SECRETS_QUERY = `query($first:Int!,$after:String){ secretsV2(first:$first,after:$after){ nodes{ ${SECRET_FIELDS} } ${PAGE_FIELDS} } }`;
export const DELETE_SECRET_MUTATION = `mutation($name:String!){ deleteSecretV2(input:{name:$name}){ deletedSecretName } }`;

/** The value as read, less one final line break (what `echo` and editors add). */
function withoutFinalNewline(text: string): string {
  return text.replace(/\r?\n$/, "");
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("put-secret")
    .description(
      "Store a new version of a secret of the secret store (creating it), read from standard input " +
        "or a file (one final line break is dropped). Pipelines reference it as {{resolve:secret:NAME}} " +
        "in an action's configuration. Prints the secret's metadata, never its value.",
    )
    .argument("<name>", "the secret's name: 1–128 characters from A-Z a-z 0-9 _ . @ + = -")
    .option("--value-stdin", "read the value from standard input")
    .option("--value-file <path>", "read the value from this file")
    .option("--description <text>", "what the secret is for (kept when omitted)")
    .action(async (name: string, _options: unknown, command: Command) => {
      const ctx = context(command);
      const { valueStdin, valueFile, description } = command.opts<{
        valueStdin?: boolean;
        valueFile?: string;
        description?: string;
      }>();
      if (Boolean(valueStdin) === Boolean(valueFile))
        throw new UsageError("put-secret takes exactly one of --value-stdin and --value-file <path>.");
      let value: string;
      if (valueFile) {
        try {
          value = await readFile(valueFile, "utf8");
        } catch (error) {
          throw new UsageError(`cannot read --value-file ${valueFile}: ${(error as Error).message}`);
        }
      } else value = await ctx.readStdin();
      const data = await ctx.request<{ putSecretV2: { secret: unknown } }>(PUT_SECRET_MUTATION, {
        name,
        value: withoutFinalNewline(value),
        description: description ?? null,
      });
      ctx.print(data.putSecretV2.secret);
    });

  program
    .command("list-secrets")
    .description("List the secrets you may see: names, descriptions, versions, who and when; never values.")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const secrets = await allNodes(
        async (first, after) =>
          (await ctx.request<{ secretsV2: Page<unknown> }>(LIST_SECRETS_QUERY, { first, after })).secretsV2,
      );
      ctx.print({ secrets });
    });

  program
    .command("delete-secret")
    .description(
      "Delete a secret, every version and its key. Jobs that reference it fail until it is put again.",
    )
    .argument("<name>", "the secret's name")
    .action(async (name: string, _options: unknown, command: Command) => {
      const ctx = context(command);
      await ctx.request<{ deleteSecretV2: { deletedSecretName: string } }>(DELETE_SECRET_MUTATION, { name });
      ctx.notice(`Deleted the secret ${name}.`);
    });
}
