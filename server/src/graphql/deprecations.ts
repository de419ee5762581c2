/**
 * One mutation style (GitHub's): every mutation takes one argument, `input: <Name>Input!`, with an
 * optional `clientMutationId` echoed back, and answers a `<Name>Payload!` that holds what changed.
 * The mutations of the older styles stay during a deprecation period, each marked
 * `@deprecated(reason: "Use <new>(input:) instead; removed in <version>.")`, and run the same
 * implementation, authorization and audit as the new one (docs/graphql.md, "Mutations").
 *
 * Naming rule, for every old field: GraphQL cannot overload a name, and no old mutation already
 * had the input + payload shape, so every new-style field has a new name and every old name keeps
 * its old shape until it is removed. The new name is CodePipeline's API name where CodePipeline
 * has the operation under another name (releaseChange → startPipelineExecution); otherwise it is
 * the old name with the suffix `V2` (createGroup → createGroupV2). `V2` names are permanent: the
 * removal of the old names renames nothing. The input and payload types are named after the new
 * field without the suffix (createGroupV2 → CreateGroupInput, CreateGroupPayload).
 */

/** The release that removes the deprecated mutations. */
export const DEPRECATED_MUTATIONS_REMOVED_IN = "0.3.0";

/** Each deprecated mutation → the new-style mutation(s) that replace it. */
export const MUTATION_SUCCESSORS = {
  addUserToGroup: ["addUserToGroupV2"],
  assumeRole: ["assumeRoleV2"],
  attachPolicy: ["attachPolicyV2"],
  changePassword: ["changePasswordV2"],
  createAccount: ["createAccountV2"],
  createAgentToken: ["createAgentTokenV2"],
  createApiToken: ["createApiTokenV2"],
  createCustomActionType: ["createCustomActionTypeV2"],
  createGroup: ["createGroupV2"],
  createNotificationRule: ["createNotificationRuleV2"],
  createNotificationTarget: ["createNotificationTargetV2"],
  createPipeline: ["createPipelineV2"],
  createPipelineWebhook: ["putWebhook"],
  createRole: ["createRoleV2"],
  createServiceAccount: ["createServiceAccountV2"],
  createUser: ["createUserV2"],
  deleteCustomActionType: ["deleteCustomActionTypeV2"],
  deleteNotificationRule: ["deleteNotificationRuleV2"],
  deleteNotificationTarget: ["deleteNotificationTargetV2"],
  deletePipeline: ["deletePipelineV2"],
  deletePipelineWebhook: ["deleteWebhook"],
  deletePolicy: ["deletePolicyV2"],
  deleteRole: ["deleteRoleV2"],
  deleteSecret: ["deleteSecretV2"],
  detachPolicy: ["detachPolicyV2"],
  editStages: ["editStagesV2"],
  exportInstallation: ["exportInstallationV2"],
  importInstallation: ["importInstallationV2"],
  importPipeline: ["importPipelineV2"],
  putApprovalResult: ["putApprovalResultV2"],
  putPolicy: ["putPolicyV2"],
  putSecret: ["putSecretV2"],
  redeliverNotification: ["redeliverNotificationV2"],
  releaseChange: ["startPipelineExecution"],
  removeUserFromGroup: ["removeUserFromGroupV2"],
  retryStage: ["retryStageExecution"],
  revokeAgentToken: ["revokeAgentTokenV2"],
  revokeApiToken: ["revokeApiTokenV2"],
  rollbackStage: ["rollbackStageV2"],
  rotateMasterKey: ["rotateMasterKeyV2"],
  setUserPassword: ["setUserPasswordV2"],
  signIn: ["signInV2"],
  signOut: ["signOutV2"],
  stopExecution: ["stopPipelineExecution"],
  tagResource: ["tagResourceV2"],
  testNotificationRule: ["testNotificationRuleV2"],
  toggleTransition: ["enableStageTransition", "disableStageTransition"],
  untagResource: ["untagResourceV2"],
  updateNotificationRule: ["updateNotificationRuleV2"],
  updateNotificationTarget: ["updateNotificationTargetV2"],
  updatePipeline: ["updatePipelineV2"],
} as const satisfies Record<string, readonly string[]>;

export type DeprecatedMutation = keyof typeof MUTATION_SUCCESSORS;

/** The new-style mutations that replace no older one: new since the style was adopted. */
export const NEW_MUTATIONS = ["putAccountRetention", "rotateSigningKey"] as const;

/** The new-style mutations: their arguments are the fields of `input`. */
export const INPUT_STYLE_MUTATIONS: ReadonlySet<string> = new Set([
  ...Object.values(MUTATION_SUCCESSORS).flat(),
  ...NEW_MUTATIONS,
]);

/** The deprecation reason of an old mutation, for its @Mutation options. */
export function deprecationReason(old: DeprecatedMutation): string {
  const uses = MUTATION_SUCCESSORS[old].map((name) => `${name}(input:)`).join(" or ");
  return `Use ${uses} instead; removed in ${DEPRECATED_MUTATIONS_REMOVED_IN}.`;
}

/** `{ deprecationReason }` for an old mutation's @Mutation options. */
export const deprecated = (old: DeprecatedMutation) => ({ deprecationReason: deprecationReason(old) });

/**
 * Lists that can grow, once plain arrays: each is now a connection under a new name (the same
 * rule as the mutations: CodePipeline's name where it has one, else the old name + `V2`), and the
 * array stays, deprecated, until DEPRECATED_MUTATIONS_REMOVED_IN.
 */
export const LIST_SUCCESSORS = {
  accounts: "accountsV2",
  actionTypes: "listActionTypes",
  agentTokens: "agentTokensV2",
  agents: "agentsV2",
  apiTokens: "apiTokensV2",
  groups: "groupsV2",
  notificationRules: "notificationRulesV2",
  notificationTargets: "notificationTargetsV2",
  policies: "policiesV2",
  policyAttachments: "policyAttachmentsV2",
  roles: "rolesV2",
  secrets: "secretsV2",
  serviceAccounts: "serviceAccountsV2",
  users: "usersV2",
} as const satisfies Record<string, string>;

export type DeprecatedList = keyof typeof LIST_SUCCESSORS;

/** `{ deprecationReason }` for a plain-list field that `successor`, a connection, replaces. */
export const replacedByConnection = (successor: string) => ({
  deprecationReason: `Use ${successor} (a connection: first/after/last/before) instead; removed in ${DEPRECATED_MUTATIONS_REMOVED_IN}.`,
});

/** `{ deprecationReason }` for an old plain-list field of Query. */
export const deprecatedList = (old: DeprecatedList) => replacedByConnection(LIST_SUCCESSORS[old]);

/** Plain lists of object types that can grow, each replaced the same way (Group.members). */
export const FIELD_LIST_SUCCESSORS = { "Group.members": "membersV2" } as const;
