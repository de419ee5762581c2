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
          sequence
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
      ...LiveChange
    }
  }
`);

export const RELEASE_CHANGE = graphql(`
  mutation ReleaseChange($name: String!, $token: String) {
    startPipelineExecution(input: { pipelineName: $name, clientRequestToken: $token }) {
      pipelineExecution {
        id
        status
      }
    }
  }
`);

export const STOP_EXECUTION = graphql(`
  mutation StopExecution($id: ID!, $abandon: Boolean!, $reason: String!) {
    stopPipelineExecution(input: { executionId: $id, abandon: $abandon, reason: $reason }) {
      pipelineExecution {
        id
        status
      }
    }
  }
`);

export const RETRY_STAGE = graphql(`
  mutation RetryStage($id: ID!, $stage: String!) {
    retryStageExecution(input: { executionId: $id, stageName: $stage, mode: FAILED_ACTIONS }) {
      pipelineExecution {
        id
        status
      }
    }
  }
`);

export const ENABLE_TRANSITION = graphql(`
  mutation EnableStageTransition($name: String!, $stage: String!) {
    enableStageTransition(input: { pipelineName: $name, stageName: $stage }) {
      transition {
        stageName
        enabled
        disabledReason
      }
    }
  }
`);

export const DISABLE_TRANSITION = graphql(`
  mutation DisableStageTransition($name: String!, $stage: String!, $reason: String!) {
    disableStageTransition(input: { pipelineName: $name, stageName: $stage, reason: $reason }) {
      transition {
        stageName
        enabled
        disabledReason
      }
    }
  }
`);

export const PUT_APPROVAL = graphql(`
  mutation PutApprovalResult($id: ID!, $approved: Boolean!, $summary: String!) {
    putApprovalResultV2(input: { actionExecutionId: $id, approved: $approved, summary: $summary }) {
      actionExecution {
        id
        status
      }
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
