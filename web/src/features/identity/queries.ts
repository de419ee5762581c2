import { graphql } from "@/gql";

/** Who the caller is: /me's head, and what /identity needs to say why a control is disabled. */
export const WHO_AM_I = graphql(`
  query IdentityWhoAmI {
    whoAmI {
      principal
      kind
      name
      srn
      account
      actingAccount
      groups
      assumedRole {
        srn
        name
        account
        sessionName
        expiresAt
      }
      policies {
        name
        attachedTo
      }
    }
  }
`);

/**
 * The effective permissions /me shows: whether the caller's policies allow each common action on
 * one pipeline of its choice, and on the other resources the dashboard's buttons act on. Asked of
 * the same checker the server decides with (whoAmI.allowed).
 */
export const EFFECTIVE_PERMISSIONS = graphql(`
  query EffectivePermissions(
    $pipeline: String!
    $agents: String!
    $notifications: String!
    $installation: String!
    $audit: String!
    $self: String!
  ) {
    whoAmI {
      principal
      getPipeline: allowed(action: "sluice:GetPipeline", resource: $pipeline)
      getPipelineState: allowed(action: "sluice:GetPipelineState", resource: $pipeline)
      listExecutions: allowed(action: "sluice:ListPipelineExecutions", resource: $pipeline)
      getLogs: allowed(action: "sluice:GetLogs", resource: $pipeline)
      createPipeline: allowed(action: "sluice:CreatePipeline", resource: $pipeline)
      updatePipeline: allowed(action: "sluice:UpdatePipeline", resource: $pipeline)
      deletePipeline: allowed(action: "sluice:DeletePipeline", resource: $pipeline)
      startExecution: allowed(action: "sluice:StartPipelineExecution", resource: $pipeline)
      stopExecution: allowed(action: "sluice:StopPipelineExecution", resource: $pipeline)
      retryStage: allowed(action: "sluice:RetryStageExecution", resource: $pipeline)
      manageAgents: allowed(action: "sluice:ManageAgents", resource: $agents)
      manageNotifications: allowed(action: "sluice:ManageNotifications", resource: $notifications)
      exportInstallation: allowed(action: "sluice:ExportInstallation", resource: $installation)
      readAudit: allowed(action: "sluice:ReadAudit", resource: $audit)
      manageOwnTokens: allowed(action: "sluice:ManageIdentity", resource: $self)
    }
  }
`);

/** Pipelines to pick the one /me's permissions are about (a caller may be refused this list). */
export const PIPELINE_NAMES = graphql(`
  query IdentityPipelineNames {
    pipelines(first: 100) {
      nodes {
        name
      }
    }
  }
`);

/** Whether the caller may do one action on one resource (a form asks as its name is typed). */
export const MAY_I = graphql(`
  query IdentityMayI($action: String!, $resource: String!) {
    whoAmI {
      principal
      allowed(action: $action, resource: $resource)
    }
  }
`);

export const API_TOKENS = graphql(`
  query IdentityApiTokens($principal: String!) {
    apiTokensV2(principal: $principal, first: 100) {
      nodes {
        id
        principal
        description
        createdAt
        createdBy
        expiresAt
        lastUsedAt
        revokedAt
        revokedBy
        roleSession
      }
    }
  }
`);

export const CREATE_API_TOKEN = graphql(`
  mutation IdentityCreateApiToken($principal: String!, $description: String!, $expiresAt: DateTime) {
    createApiTokenV2(input: { principal: $principal, description: $description, expiresAt: $expiresAt }) {
      secret
      token {
        id
        description
      }
    }
  }
`);

export const REVOKE_API_TOKEN = graphql(`
  mutation IdentityRevokeApiToken($id: ID!) {
    revokeApiTokenV2(input: { id: $id }) {
      apiToken {
        id
        revokedAt
      }
    }
  }
`);

/** What an administrator manages on /identity (each list holds what the caller may manage). */
export const IDENTITIES = graphql(`
  query Identities {
    usersV2(first: 100) {
      nodes {
        name
        displayName
        email
        createdAt
        createdBy
      }
    }
    groupsV2(first: 100) {
      nodes {
        name
        membersV2(first: 100) {
          nodes {
            userName
          }
        }
        createdAt
        createdBy
      }
    }
    serviceAccountsV2(first: 100) {
      nodes {
        name
        description
        createdAt
        createdBy
      }
    }
    policiesV2(first: 100) {
      nodes {
        name
        description
        managed
        document
        updatedAt
        updatedBy
      }
    }
    rolesV2(first: 100) {
      nodes {
        name
        srn
        description
        maxSessionSeconds
        trustPolicy
        createdAt
        createdBy
      }
    }
    policyAttachmentsV2(first: 100) {
      nodes {
        policyName
        principal
        attachedAt
        attachedBy
      }
    }
  }
`);

export const VALIDATE_POLICY = graphql(`
  query ValidatePolicy($document: JSON!) {
    validatePolicy(document: $document) {
      valid
      problems {
        path
        message
      }
    }
  }
`);

export const CREATE_USER = graphql(`
  mutation IdentityCreateUser($name: String!, $displayName: String, $email: String) {
    createUserV2(input: { name: $name, displayName: $displayName, email: $email }) {
      user {
        name
      }
    }
  }
`);

export const CREATE_GROUP = graphql(`
  mutation IdentityCreateGroup($name: String!) {
    createGroupV2(input: { name: $name }) {
      group {
        name
      }
    }
  }
`);

export const CREATE_SERVICE_ACCOUNT = graphql(`
  mutation IdentityCreateServiceAccount($name: String!, $description: String) {
    createServiceAccountV2(input: { name: $name, description: $description }) {
      serviceAccount {
        name
      }
    }
  }
`);

export const ADD_TO_GROUP = graphql(`
  mutation IdentityAddUserToGroup($groupName: String!, $userName: String!) {
    addUserToGroupV2(input: { groupName: $groupName, userName: $userName }) {
      changed
    }
  }
`);

export const REMOVE_FROM_GROUP = graphql(`
  mutation IdentityRemoveUserFromGroup($groupName: String!, $userName: String!) {
    removeUserFromGroupV2(input: { groupName: $groupName, userName: $userName }) {
      changed
    }
  }
`);

export const PUT_POLICY = graphql(`
  mutation IdentityPutPolicy($name: String!, $description: String, $document: JSONObject!) {
    putPolicyV2(input: { name: $name, description: $description, document: $document }) {
      policy {
        name
      }
    }
  }
`);

export const DELETE_POLICY = graphql(`
  mutation IdentityDeletePolicy($name: String!) {
    deletePolicyV2(input: { name: $name }) {
      deletedPolicyName
    }
  }
`);

export const ATTACH_POLICY = graphql(`
  mutation IdentityAttachPolicy($policyName: String!, $principal: String!) {
    attachPolicyV2(input: { policyName: $policyName, principal: $principal }) {
      changed
    }
  }
`);

export const DETACH_POLICY = graphql(`
  mutation IdentityDetachPolicy($policyName: String!, $principal: String!) {
    detachPolicyV2(input: { policyName: $policyName, principal: $principal }) {
      changed
    }
  }
`);

export const CREATE_ROLE = graphql(`
  mutation IdentityCreateRole(
    $name: String!
    $description: String
    $maxSessionSeconds: Int
    $trustPolicy: JSONObject!
  ) {
    createRoleV2(
      input: {
        name: $name
        description: $description
        maxSessionSeconds: $maxSessionSeconds
        trustPolicy: $trustPolicy
      }
    ) {
      role {
        name
      }
    }
  }
`);

export const DELETE_ROLE = graphql(`
  mutation IdentityDeleteRole($name: String!) {
    deleteRoleV2(input: { name: $name }) {
      deleted
    }
  }
`);
