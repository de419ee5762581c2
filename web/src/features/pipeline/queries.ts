import { graphql } from "@/gql";

export const PIPELINE_VIEW = graphql(`
  query PipelineView($name: String!) {
    pipeline(name: $name) {
      id
      name
      version
      executionMode
      stages {
        name
        actions {
          name
          runOrder
          actionTypeId {
            category
            provider
          }
        }
      }
      state {
        stages {
          name
          inboundTransition {
            enabled
            disabledReason
            disabledBy
            disabledAt
          }
          latestExecution {
            executionId
            status
          }
          waitingExecutions {
            executionId
            waitingReason {
              code
              message
              since
            }
          }
          actions {
            name
            latestExecution {
              actionExecutionId
              executionId
              status
              lastStatusChange
              approvalPending
              summary
              errorDetails {
                code
                message
              }
            }
          }
        }
      }
      executions(first: 20) {
        nodes {
          id
          status
          statusSummary
          startTime
          endTime
          currentStage {
            stageName
            entered
          }
          waitingReason {
            code
            message
          }
          sourceRevisions {
            actionName
            revisionId
            revisionSummary
          }
          stages {
            name
            status
            actions {
              id
              name
              status
              startTime
              endTime
              outputVariables
              waitingReason {
                code
                message
              }
            }
          }
        }
      }
    }
  }
`);

export const PIPELINE_EVENTS = graphql(`
  subscription PipelineViewEvents($name: String!) {
    pipelineEvents(pipelineName: $name) {
      type
      at
      executionId
      stageName
      actionName
      status
    }
  }
`);

export const RELEASE_CHANGE = graphql(`
  mutation ReleaseChange($name: String!, $token: String) {
    releaseChange(pipelineName: $name, clientRequestToken: $token) {
      id
      status
    }
  }
`);

export const STOP_EXECUTION = graphql(`
  mutation StopExecution($id: ID!, $abandon: Boolean!, $reason: String!) {
    stopExecution(executionId: $id, abandon: $abandon, reason: $reason) {
      id
      status
    }
  }
`);

export const RETRY_STAGE = graphql(`
  mutation RetryStage($id: ID!, $stage: String!) {
    retryStage(executionId: $id, stageName: $stage, mode: FAILED_ACTIONS) {
      id
      status
    }
  }
`);

export const TOGGLE_TRANSITION = graphql(`
  mutation ToggleTransition($name: String!, $stage: String!, $enabled: Boolean!, $reason: String) {
    toggleTransition(pipelineName: $name, stageName: $stage, enabled: $enabled, reason: $reason) {
      stageName
      enabled
      disabledReason
    }
  }
`);

export const PUT_APPROVAL = graphql(`
  mutation PutApprovalResult($id: ID!, $approved: Boolean!, $summary: String!) {
    putApprovalResult(actionExecutionId: $id, approved: $approved, summary: $summary) {
      id
      status
    }
  }
`);

export const APPROVAL_DETAILS = graphql(`
  query ApprovalDetails($id: ID!) {
    pipelineExecution(id: $id) {
      id
      sourceRevisions {
        actionName
        revisionId
        revisionSummary
        revisionUrl
      }
      stages {
        name
        actions {
          id
          name
          resolvedConfiguration
          outputVariables
        }
      }
    }
  }
`);
