/**
 * Identity commands (docs/policies.md): users, service accounts, API tokens, policies and their
 * attachments, simulate-policy and whoami. Principals are written `user/<name>`,
 * `group/<name>` or `service-account/<name>`; resources as SRNs (`srn:sluice:default:pipeline/web`).
 */
import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { allNodes, PAGE_FIELDS, type Page } from "../pagination";
import { UsageError } from "../errors";
import { STORE_TOKEN_NOTICE } from "./create-agent-token";

export const API_TOKEN_FIELDS =
  "id principal description createdAt createdBy expiresAt lastUsedAt revokedAt revokedBy";

export const CREATE_USER_MUTATION =
  "mutation($name:String!,$displayName:String,$email:String){ createUserV2(input:{name:$name,displayName:$displayName,email:$email}){ user{ name displayName email createdAt createdBy } } }";
export const CREATE_SERVICE_ACCOUNT_MUTATION =
  "mutation($name:String!,$description:String){ createServiceAccountV2(input:{name:$name,description:$description}){ serviceAccount{ name description createdAt createdBy } } }";
export const CREATE_API_TOKEN_MUTATION = `mutation($principal:String!,$description:String!,$expiresAt:DateTime){ createApiTokenV2(input:{principal:$principal,description:$description,expiresAt:$expiresAt}){ secret token{ ${API_TOKEN_FIELDS} } } }`;
export const LIST_API_TOKENS_QUERY = `query($principal:String,$first:Int!,$after:String){ apiTokensV2(principal:$principal,first:$first,after:$after){ nodes{ ${API_TOKEN_FIELDS} } ${PAGE_FIELDS} } }`;
export const REVOKE_API_TOKEN_MUTATION = `mutation($id:ID!){ revokeApiTokenV2(input:{id:$id}){ apiToken{ ${API_TOKEN_FIELDS} } } }`;
export const PUT_POLICY_MUTATION =
  "mutation($name:String!,$document:JSONObject!,$description:String){ putPolicyV2(input:{name:$name,document:$document,description:$description}){ policy{ name description managed document updatedAt updatedBy } } }";
export const ATTACH_POLICY_MUTATION =
  "mutation($policyName:String!,$principal:String!){ attachPolicyV2(input:{policyName:$policyName,principal:$principal}){ changed } }";
export const SIMULATE_POLICY_QUERY =
  "query($principal:String!,$action:String!,$resource:String!){ simulatePolicy(principal:$principal,action:$action,resource:$resource){ decision allowed action resource statement{ policy attachedTo sid index } explanation } }";
export const WHOAMI_QUERY =
  "query{ whoAmI{ principal kind name account actingAccount assumedRole{ srn sessionName expiresAt } groups policies{ name attachedTo } } }";

const nonEmpty = (option: string, value: string) => {
  if (value.trim() === "") throw new UsageError(`${option} must not be empty`);
  return value;
};

export function register(program: Command, context: ContextFactory): void {
  program
    .command("create-user")
    .description("Create a user (with no policy: attach one with attach-policy). Prints { user }.")
    .requiredOption("--user-name <name>", "letters, digits and _.@+=,- (1 to 64)")
    .option("--display-name <text>", "a name to show")
    .option("--email <address>", "an email address")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const o = command.opts<{ userName: string; displayName?: string; email?: string }>();
      const data = await ctx.request<{ createUserV2: { user: unknown } }>(CREATE_USER_MUTATION, {
        name: nonEmpty("--user-name", o.userName),
        displayName: o.displayName ?? null,
        email: o.email ?? null,
      });
      ctx.print({ user: data.createUserV2.user });
    });

  program
    .command("create-service-account")
    .description("Create a service account for scripts and CI. Prints { serviceAccount }.")
    .requiredOption("--name <name>", "letters, digits and _.@+=,- (1 to 64)")
    .option("--description <text>", "what it is for")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const o = command.opts<{ name: string; description?: string }>();
      const data = await ctx.request<{ createServiceAccountV2: { serviceAccount: unknown } }>(
        CREATE_SERVICE_ACCOUNT_MUTATION,
        {
          name: nonEmpty("--name", o.name),
          description: o.description ?? null,
        },
      );
      ctx.print({ serviceAccount: data.createServiceAccountV2.serviceAccount });
    });

  program
    .command("create-api-token")
    .description(
      "Create an API token for a user or service account. Prints { apiToken, secret }; the secret is shown only once.",
    )
    .requiredOption("--principal <principal>", "user/<name> or service-account/<name>")
    .requiredOption("--description <text>", "what the token is for")
    .option(
      "--expires-at <time>",
      "when it stops working (ISO 8601, e.g. 2027-01-01T00:00:00Z); default: never",
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const o = command.opts<{ principal: string; description: string; expiresAt?: string }>();
      if (o.expiresAt !== undefined && Number.isNaN(Date.parse(o.expiresAt))) {
        throw new UsageError(
          `--expires-at ${o.expiresAt}: not a date and time (write e.g. 2027-01-01T00:00:00Z)`,
        );
      }
      const data = await ctx.request<{ createApiTokenV2: { secret: string; token: unknown } }>(
        CREATE_API_TOKEN_MUTATION,
        {
          principal: o.principal,
          description: nonEmpty("--description", o.description),
          expiresAt: o.expiresAt === undefined ? null : new Date(o.expiresAt).toISOString(),
        },
      );
      ctx.print({ apiToken: data.createApiTokenV2.token, secret: data.createApiTokenV2.secret });
      ctx.notice(STORE_TOKEN_NOTICE);
    });

  program
    .command("list-api-tokens")
    .description("List API tokens (never their secrets) with their last use. Prints { apiTokens }.")
    .option("--principal <principal>", "only those of user/<name> or service-account/<name>")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { principal } = command.opts<{ principal?: string }>();
      const apiTokens = await allNodes(
        async (first, after) =>
          (
            await ctx.request<{ apiTokensV2: Page<unknown> }>(LIST_API_TOKENS_QUERY, {
              principal: principal ?? null,
              first,
              after,
            })
          ).apiTokensV2,
      );
      ctx.print({ apiTokens });
    });

  program
    .command("revoke-api-token")
    .description(
      "Revoke an API token: refused from now on, its open subscriptions close. Prints { apiToken }.",
    )
    .requiredOption("--id <id>", "token id (from create-api-token or list-api-tokens)")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { id } = command.opts<{ id: string }>();
      const data = await ctx.request<{ revokeApiTokenV2: { apiToken: unknown } }>(REVOKE_API_TOKEN_MUTATION, {
        id,
      });
      ctx.print({ apiToken: data.revokeApiTokenV2.apiToken });
    });

  program
    .command("put-policy")
    .description("Create or replace a customer policy (validated by the server). Prints { policy }.")
    .requiredOption("--policy-name <name>", "letters, digits and _.@+=,- (1 to 64)")
    .requiredOption("--policy-document <json>", "the document: file://path, - (stdin) or the JSON itself")
    .option("--description <text>", "what it allows")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const o = command.opts<{ policyName: string; policyDocument: string; description?: string }>();
      const document = await ctx.readInput(o.policyDocument);
      if (typeof document !== "object" || document === null || Array.isArray(document)) {
        throw new UsageError("--policy-document must be a JSON object: { Version, Statement }");
      }
      const data = await ctx.request<{ putPolicyV2: { policy: unknown } }>(PUT_POLICY_MUTATION, {
        name: nonEmpty("--policy-name", o.policyName),
        document,
        description: o.description ?? null,
      });
      ctx.print({ policy: data.putPolicyV2.policy });
    });

  program
    .command("attach-policy")
    .description(
      "Attach a managed (ReadOnly, Operator, PipelineAdmin, Admin) or customer policy. Prints { attached }.",
    )
    .requiredOption("--policy-name <name>", "the policy")
    .requiredOption(
      "--principal <principal>",
      "user/<name>, group/<name>, service-account/<name> or role/<name>",
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const o = command.opts<{ policyName: string; principal: string }>();
      const data = await ctx.request<{ attachPolicyV2: { changed: boolean } }>(ATTACH_POLICY_MUTATION, {
        policyName: o.policyName,
        principal: o.principal,
      });
      ctx.print({ attached: data.attachPolicyV2.changed });
    });

  program
    .command("simulate-policy")
    .description(
      "Whether a principal may do an action on a resource, and which statement decided. Prints { simulation }.",
    )
    .requiredOption("--principal <principal>", "user/<name>, group/<name> or service-account/<name>")
    .requiredOption("--action <action>", "e.g. sluice:PutApprovalResult")
    .requiredOption("--resource <srn>", "e.g. srn:sluice:default:pipeline/web/stage/Prod/action/Approve")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const o = command.opts<{ principal: string; action: string; resource: string }>();
      const data = await ctx.request<{ simulatePolicy: unknown }>(SIMULATE_POLICY_QUERY, {
        principal: o.principal,
        action: o.action,
        resource: o.resource,
      });
      ctx.print({ simulation: data.simulatePolicy });
    });

  program
    .command("whoami")
    .description("Who the token is, with its groups and effective policies. Prints { identity }.")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const data = await ctx.request<{ whoAmI: unknown }>(WHOAMI_QUERY, {});
      ctx.print({ identity: data.whoAmI });
    });
}
