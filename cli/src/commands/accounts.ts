/**
 * Accounts and delegation (docs/policies.md): create-account, list-accounts, create-role,
 * list-roles, delete-role and assume-role; an account's retention of its pipelines' executions,
 * logs and artifacts (docs/backup.md): put-account-retention, get-account-retention. A role's policies are attached with attach-policy
 * (`--principal role/<name>`). assume-role prints short-lived credentials, or with `--export` a
 * shell line setting SLUICE_TOKEN (the token every command reads): `eval "$(sluice assume-role
 * --role-srn … --role-session-name … --export)"`.
 */
import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { allNodes, PAGE_FIELDS, type Page } from "../pagination";
import { TOKEN_ENV } from "../context";
import { UsageError } from "../errors";

const ACCOUNT_FIELDS = "id description createdAt createdBy";
const ROLE_FIELDS = "account name srn description trustPolicy maxSessionSeconds createdAt createdBy";

export const CREATE_ACCOUNT_MUTATION = `mutation($id:String!,$description:String){ createAccountV2(input:{id:$id,description:$description}){ account{ ${ACCOUNT_FIELDS} } } }`;
export const LIST_ACCOUNTS_QUERY = `query($first:Int!,$after:String){ accountsV2(first:$first,after:$after){ nodes{ ${ACCOUNT_FIELDS} } ${PAGE_FIELDS} } }`;
export const CREATE_ROLE_MUTATION = `mutation($name:String!,$trustPolicy:JSONObject!,$description:String,$maxSessionSeconds:Int){ createRoleV2(input:{name:$name,trustPolicy:$trustPolicy,description:$description,maxSessionSeconds:$maxSessionSeconds}){ role{ ${ROLE_FIELDS} } } }`;
export const LIST_ROLES_QUERY = `query($first:Int!,$after:String){ rolesV2(first:$first,after:$after){ nodes{ ${ROLE_FIELDS} } ${PAGE_FIELDS} } }`;
export const DELETE_ROLE_MUTATION = "mutation($name:String!){ deleteRoleV2(input:{name:$name}){ deleted } }";
export const ASSUME_ROLE_MUTATION =
  "mutation($role:String!,$sessionName:String!,$durationSeconds:Int){ assumeRoleV2(input:{role:$role,sessionName:$sessionName,durationSeconds:$durationSeconds}){ credentials{ secret tokenId expiresAt assumedRole{ srn account name sessionName expiresAt } } } }";

const RETENTION_FIELDS =
  "account executionDays maxExecutions effectiveExecutionDays effectiveMaxExecutions updatedAt updatedBy";
export const GET_ACCOUNT_RETENTION_QUERY = `query($account:String!){ accountRetention(account:$account){ ${RETENTION_FIELDS} } }`;
export const PUT_ACCOUNT_RETENTION_MUTATION = `mutation($account:String!,$executionDays:Int,$maxExecutions:Int){ putAccountRetention(input:{account:$account,executionDays:$executionDays,maxExecutions:$maxExecutions}){ accountRetention{ ${RETENTION_FIELDS} } } }`;

/** A whole number (0: no limit), or null when the option is absent (the installation's applies). */
function wholeNumber(option: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`${option} ${value}: a whole number (0: no limit)`);
  return Number(value);
}

function wholeSeconds(option: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  if (!/^\d+$/.test(value)) throw new UsageError(`${option} ${value}: a whole number of seconds`);
  return Number(value);
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("create-account")
    .description(
      "Create an account (tenant) with its AccountAccessRole (Admin, assumable from your account). Prints { account }.",
    )
    .requiredOption("--account-id <id>", "1 to 64 letters, digits, _ and -")
    .option("--description <text>", "what it is for")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const o = command.opts<{ accountId: string; description?: string }>();
      const data = await ctx.request<{ createAccountV2: { account: unknown } }>(CREATE_ACCOUNT_MUTATION, {
        id: o.accountId,
        description: o.description ?? null,
      });
      ctx.print({ account: data.createAccountV2.account });
    });

  program
    .command("list-accounts")
    .description("List the accounts you may list. Prints { accounts }.")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const accounts = await allNodes(
        async (first, after) =>
          (await ctx.request<{ accountsV2: Page<unknown> }>(LIST_ACCOUNTS_QUERY, { first, after }))
            .accountsV2,
      );
      ctx.print({ accounts });
    });

  program
    .command("put-account-retention")
    .description(
      "Set how long an account's pipelines keep finished executions, logs and artifacts, and how many; a figure left out inherits the installation's, and a pipeline's own setting beats the account's. Prints { retention }.",
    )
    .requiredOption("--account <id>", "the account, e.g. default")
    .option("--execution-days <days>", "finished executions older than this go (0: no age limit)")
    .option("--max-executions <count>", "at most this many executions per pipeline (0: no limit)")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const o = command.opts<{ account: string; executionDays?: string; maxExecutions?: string }>();
      const data = await ctx.request<{ putAccountRetention: { accountRetention: unknown } }>(
        PUT_ACCOUNT_RETENTION_MUTATION,
        {
          account: o.account,
          executionDays: wholeNumber("--execution-days", o.executionDays),
          maxExecutions: wholeNumber("--max-executions", o.maxExecutions),
        },
      );
      ctx.print({ retention: data.putAccountRetention.accountRetention });
    });

  program
    .command("get-account-retention")
    .description(
      "An account's retention setting and what applies to its pipelines without one of their own. Prints { retention }.",
    )
    .requiredOption("--account <id>", "the account, e.g. default")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { account } = command.opts<{ account: string }>();
      const data = await ctx.request<{ accountRetention: unknown }>(GET_ACCOUNT_RETENTION_QUERY, { account });
      ctx.print({ retention: data.accountRetention });
    });

  program
    .command("create-role")
    .description(
      "Create a role in your account; attach policies with attach-policy --principal role/<name>. Prints { role }.",
    )
    .requiredOption("--role-name <name>", "letters, digits and _.@+=,- (1 to 64)")
    .requiredOption(
      "--assume-role-policy-document <json>",
      "the trust policy (who may assume it): file://path, - (stdin) or the JSON itself",
    )
    .option("--description <text>", "what it is for")
    .option("--max-session-duration <seconds>", "60 to 43200; default 3600")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const o = command.opts<{
        roleName: string;
        assumeRolePolicyDocument: string;
        description?: string;
        maxSessionDuration?: string;
      }>();
      const trustPolicy = await ctx.readInput(o.assumeRolePolicyDocument);
      if (typeof trustPolicy !== "object" || trustPolicy === null || Array.isArray(trustPolicy)) {
        throw new UsageError("--assume-role-policy-document must be a JSON object: { Version, Statement }");
      }
      const data = await ctx.request<{ createRoleV2: { role: unknown } }>(CREATE_ROLE_MUTATION, {
        name: o.roleName,
        trustPolicy,
        description: o.description ?? null,
        maxSessionSeconds: wholeSeconds("--max-session-duration", o.maxSessionDuration),
      });
      ctx.print({ role: data.createRoleV2.role });
    });

  program
    .command("list-roles")
    .description("List the roles of your account. Prints { roles }.")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const roles = await allNodes(
        async (first, after) =>
          (await ctx.request<{ rolesV2: Page<unknown> }>(LIST_ROLES_QUERY, { first, after })).rolesV2,
      );
      ctx.print({ roles });
    });

  program
    .command("delete-role")
    .description("Delete a role with its attachments; its sessions stop working. Prints { deleted }.")
    .requiredOption("--role-name <name>", "the role")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { roleName } = command.opts<{ roleName: string }>();
      const data = await ctx.request<{ deleteRoleV2: { deleted: boolean } }>(DELETE_ROLE_MUTATION, {
        name: roleName,
      });
      ctx.print({ deleted: data.deleteRoleV2.deleted });
    });

  program
    .command("assume-role")
    .description(
      `Short-lived credentials acting as a role. Prints { credentials }; with --export, a line setting ${TOKEN_ENV} for eval.`,
    )
    .requiredOption(
      "--role-srn <role>",
      "srn:sluice:<account>:role/<name>, or role/<name> in your own account",
    )
    .requiredOption("--role-session-name <name>", "names the session in the audit log (2 to 64 characters)")
    .option("--duration-seconds <seconds>", "5 to the role's maximum; default 3600")
    .option("--export", `print \`export ${TOKEN_ENV}=…\` (for eval in a shell) instead of JSON`)
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const o = command.opts<{
        roleSrn: string;
        roleSessionName: string;
        durationSeconds?: string;
        export?: boolean;
      }>();
      const data = await ctx.request<{
        assumeRoleV2: {
          credentials: { secret: string; tokenId: string; expiresAt: string; assumedRole: unknown };
        };
      }>(ASSUME_ROLE_MUTATION, {
        role: o.roleSrn,
        sessionName: o.roleSessionName,
        durationSeconds: wholeSeconds("--duration-seconds", o.durationSeconds),
      });
      const credentials = data.assumeRoleV2.credentials;
      if (o.export) {
        // The secret is base64url after `slc_`: nothing a shell would read specially.
        ctx.write(`export ${TOKEN_ENV}=${credentials.secret}\n`);
        ctx.notice(`The credentials expire at ${credentials.expiresAt}.`);
        return;
      }
      ctx.print({ credentials });
    });
}
