import { Field, ID, Int, ObjectType } from "type-graphql";
import { FIELD_LIST_SUCCESSORS, replacedByConnection } from "../deprecations";
import { NodeInterface } from "./node.type";
import { JSONObjectScalar } from "./scalars";
import { MutationPayload } from "./mutation";

@ObjectType("User", { description: "A person: signs in with a password (signInV2) or with API tokens." })
export class UserType {
  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  displayName!: string | null;

  @Field(() => String, { nullable: true })
  email!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  createdBy!: string;
}

@ObjectType("Group", { description: "Users who share policies: attach a policy to the group." })
export class GroupType {
  @Field()
  name!: string;

  @Field(() => [String], {
    description: "Its users' names, in order.",
    ...replacedByConnection(FIELD_LIST_SUCCESSORS["Group.members"]),
  })
  members!: string[];

  @Field()
  createdAt!: Date;

  @Field()
  createdBy!: string;
}

@ObjectType("GroupMember", { description: "A user in a group." })
export class GroupMemberType {
  @Field({ description: "The user's name (User.name)." })
  userName!: string;
}

@ObjectType("ServiceAccount", { description: "A principal for scripts and CI; acts with its API tokens." })
export class ServiceAccountType {
  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  createdBy!: string;
}

@ObjectType("ApiToken", {
  implements: NodeInterface,
  description: "An API token of a user or a service account (never its secret).",
})
export class ApiTokenType {
  @Field(() => ID)
  id!: string;

  @Field({ description: "Whose it is: user/<name> or service-account/<name>." })
  principal!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "A role session's credentials (assumeRole): the role it acts as and the session name, `srn:sluice:<account>:role/<name> (session <s>)`; null for an ordinary token.",
  })
  roleSession!: string | null;

  @Field()
  description!: string;

  @Field()
  createdAt!: Date;

  @Field()
  createdBy!: string;

  @Field(() => Date, { nullable: true, description: "When it stops working; null: never." })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "Its last use, to the minute." })
  lastUsedAt!: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => String, { nullable: true })
  revokedBy!: string | null;
}

@ObjectType("CreateApiTokenPayload")
export class CreateApiTokenPayload extends MutationPayload {
  @Field(() => ApiTokenType)
  token!: ApiTokenType;

  @Field({ description: "The token's secret: shown this once, only its SHA-256 digest is kept." })
  secret!: string;
}

@ObjectType("Policy", {
  implements: NodeInterface,
  description: "A managed policy (ReadOnly, Operator, PipelineAdmin, Admin) or a customer one.",
})
export class PolicyType {
  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field({ description: "Managed policies come with Sluice and cannot be changed." })
  managed!: boolean;

  @Field(() => JSONObjectScalar, { description: "The IAM-shaped document (docs/policies.md)." })
  document!: Record<string, unknown>;

  @Field(() => Date, { nullable: true })
  updatedAt!: Date | null;

  @Field(() => String, { nullable: true })
  updatedBy!: string | null;
}

@ObjectType("EffectivePolicy", {
  description: "A policy that applies to a principal, and where it is attached.",
})
export class EffectivePolicyType {
  @Field()
  name!: string;

  @Field({ description: "user/<name>, group/<name> or service-account/<name>." })
  attachedTo!: string;

  @Field(() => JSONObjectScalar)
  document!: Record<string, unknown>;
}

@ObjectType("AssumedRole", { description: "The role a role session acts as (credentials from assumeRole)." })
export class AssumedRoleType {
  @Field({ description: "srn:sluice:<account>:role/<name>." })
  srn!: string;

  @Field({ description: "The role's account: the session acts there, with the role's policies only." })
  account!: string;

  @Field()
  name!: string;

  @Field()
  sessionName!: string;

  @Field({ description: "When the credentials stop working." })
  expiresAt!: Date;
}

@ObjectType("CallerIdentity", { description: "Who the caller is, and its effective policies." })
export class CallerIdentityType {
  @Field({
    description:
      "user/<name>, service-account/<name> or metrics: what the audit log records (the real principal, also in a role session).",
  })
  principal!: string;

  @Field(() => String, {
    nullable: true,
    description: "The real principal's SRN: srn:sluice:<account>:user/<name>.",
  })
  srn?: string | null;

  @Field({ description: "The account the principal belongs to." })
  account!: string;

  @Field({ description: "The account its requests act in: its own, or the assumed role's." })
  actingAccount!: string;

  @Field(() => AssumedRoleType, { nullable: true, description: "Set in a role session." })
  assumedRole!: AssumedRoleType | null;

  @Field({ description: "user, service-account or metrics." })
  kind!: string;

  @Field()
  name!: string;

  @Field(() => [String], { description: "The groups of a user." })
  groups!: string[];

  @Field(() => [EffectivePolicyType], {
    description: "In evaluation order: its own, then its groups'; in a role session the role's only.",
  })
  policies!: EffectivePolicyType[];
}

@ObjectType("StatementRef", { description: "The statement that decided." })
export class StatementRefType {
  @Field()
  policy!: string;

  @Field(() => String, { nullable: true })
  attachedTo!: string | null;

  @Field(() => String, { nullable: true })
  sid!: string | null;

  @Field(() => Int, { description: "Its index in the policy's Statement list, from 0." })
  index!: number;
}

@ObjectType("PolicySimulation", {
  description: "What the evaluator answers for a principal, action and resource.",
})
export class PolicySimulationType {
  @Field({ description: "ALLOW, DENY (an explicit Deny) or IMPLICIT_DENY (nothing allows it)." })
  decision!: string;

  @Field()
  allowed!: boolean;

  @Field()
  action!: string;

  @Field()
  resource!: string;

  @Field(() => StatementRefType, { nullable: true })
  statement!: StatementRefType | null;

  @Field()
  explanation!: string;
}

@ObjectType("Account", { description: "An account (tenant): identities, policies and roles belong to one." })
export class AccountType {
  @Field({ description: "Its id, as SRNs carry it: srn:sluice:<id>:…" })
  id!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field()
  createdAt!: Date;

  @Field()
  createdBy!: string;
}

@ObjectType("AccountRetention", {
  description:
    "How long an account keeps its pipelines' finished executions (with their history, logs and artifacts), and how many per pipeline. A pipeline's own setting (SLUICE_RETENTION_PIPELINES) beats the account's, which beats the installation's (SLUICE_RETENTION_DAYS, SLUICE_RETENTION_MAX_EXECUTIONS).",
})
export class AccountRetentionType {
  @Field()
  account!: string;

  @Field(() => Int, {
    nullable: true,
    description: "The account's own age limit in days (0: none); null inherits the installation's.",
  })
  executionDays!: number | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "The account's own limit of executions kept per pipeline (0: none); null inherits the installation's.",
  })
  maxExecutions!: number | null;

  @Field(() => Int, { description: "The age limit a pipeline of the account without its own setting has." })
  effectiveExecutionDays!: number;

  @Field(() => Int, { description: "The count limit a pipeline of the account without its own setting has." })
  effectiveMaxExecutions!: number;

  @Field(() => Date, { nullable: true, description: "When the account's setting last changed." })
  updatedAt!: Date | null;

  @Field(() => String, { nullable: true })
  updatedBy!: string | null;
}

@ObjectType("Role", {
  description:
    "A role: attached policies (attachPolicy with role/<name>) and a trust policy naming who may assume it.",
})
export class RoleType {
  @Field()
  account!: string;

  @Field()
  name!: string;

  @Field({ description: "srn:sluice:<account>:role/<name>: what another account's principals assume." })
  srn!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => JSONObjectScalar, { description: "Who may assume it (docs/policies.md)." })
  trustPolicy!: Record<string, unknown>;

  @Field(() => Int, { description: "The longest session assumeRole may grant, in seconds." })
  maxSessionSeconds!: number;

  @Field()
  createdAt!: Date;

  @Field()
  createdBy!: string;
}

@ObjectType("RoleCredentials", {
  description:
    "A role session's credentials: an API token that acts as the role until it expires. The secret is in this answer only.",
})
export class RoleCredentialsType {
  @Field({ description: "Send it as `Authorization: Bearer <secret>` (the CLI reads SLUICE_TOKEN)." })
  secret!: string;

  @Field(() => ID, { description: "The token's id (revokeApiToken ends the session early)." })
  tokenId!: string;

  @Field()
  expiresAt!: Date;

  @Field(() => AssumedRoleType)
  assumedRole!: AssumedRoleType;
}

@ObjectType("PolicyAttachment", {
  description: "A policy attached to a user, group, service account or role.",
})
export class PolicyAttachmentType {
  @Field()
  policyName!: string;

  @Field({ description: "user/<name>, group/<name>, service-account/<name> or role/<name>." })
  principal!: string;

  @Field()
  attachedAt!: Date;

  @Field()
  attachedBy!: string;
}

@ObjectType("PolicyProblem", { description: "One problem of a policy document, where it is." })
export class PolicyProblemType {
  @Field({
    description: "The offending field in the document: Statement[1].Action[0]; empty: the whole document.",
  })
  path!: string;

  @Field()
  message!: string;
}

@ObjectType("PolicyValidation", { description: "What putPolicy would say of a document, without saving it." })
export class PolicyValidationType {
  @Field()
  valid!: boolean;

  @Field(() => [PolicyProblemType], { description: "Every problem at once; none when valid." })
  problems!: PolicyProblemType[];
}
