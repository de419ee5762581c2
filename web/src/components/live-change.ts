import { graphql } from "@/gql";

/**
 * What a live page selects of a pipeline event: the change itself, with the execution's sequence
 * (components/live.ts, live-apply.ts). Resolved by the server from the event alone.
 */
export const LIVE_CHANGE = graphql(`
  fragment LiveChange on PipelineEvent {
    type
    pipelineName
    executionId
    sequence
    stageName
    actionName
    actionExecutionId
    status
    at
    by
    statusSummary
    startTime
    endTime
    attempt
    approvalPending
    summary
    errorDetails {
      code
      message
    }
    agentName
    outputVariables
    outputArtifacts {
      name
      size
      sha256
    }
    approval {
      approved
      summary
      by
      at
    }
  }
`);
