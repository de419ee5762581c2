/**
 * `--generate-cli-skeleton output`: what each command prints, with placeholder values, for the commands
 * whose output has a fixed shape (the AWS CLI derives these from its service model; Sluice's commands
 * declare them here). Field names as the commands print them (AWS's, see aws-shapes.ts).
 */
const execution = { pipelineExecutionId: "", pipelineName: "", status: "", statusSummary: "" };
const revision = { actionName: "", revisionId: "", revisionSummary: "", revisionUrl: "" };
const trigger = { triggerType: "", triggerDetail: "" };

export const OUTPUT_SKELETONS: Record<string, unknown> = {
  "list-pipelines": {
    pipelines: [{ name: "", version: 0, executionMode: "", created: "", updated: "" }],
    NextToken: "",
  },
  "get-pipeline": {
    name: "",
    executionMode: "",
    stages: [
      {
        name: "",
        actions: [
          {
            name: "",
            actionTypeId: { category: "", owner: "", provider: "", version: "" },
            configuration: {},
          },
        ],
      },
    ],
  },
  "start-pipeline-execution": { pipelineExecutionId: "" },
  "list-tags-for-resource": { tags: [{ key: "", value: "" }] },
  "stop-pipeline-execution": execution,
  "retry-stage-execution": { ...execution, stages: [{ name: "", status: "" }] },
  "rollback-stage": { pipelineExecutionId: "", pipelineName: "", status: "", trigger },
  "list-pipeline-executions": {
    pipelineExecutionSummaries: [
      {
        pipelineExecutionId: "",
        status: "",
        statusSummary: "",
        pipelineVersion: 0,
        startTime: "",
        lastUpdateTime: "",
        endTime: "",
        trigger,
        sourceRevisions: [revision],
        stages: [{ name: "", status: "" }],
      },
    ],
    NextToken: "",
  },
  "get-pipeline-execution": {
    pipelineExecution: {
      pipelineExecutionId: "",
      pipelineName: "",
      pipelineVersion: 0,
      status: "",
      statusSummary: "",
      trigger,
      sourceRevisions: [revision],
      variables: [{ name: "", resolvedValue: "" }],
      stages: [
        { name: "", status: "", actions: [{ name: "", id: "", status: "", summary: "", attempt: 0 }] },
      ],
    },
  },
  "get-pipeline-state": {
    pipelineName: "",
    pipelineVersion: 0,
    stageStates: [
      {
        stageName: "",
        inboundTransitionState: { enabled: true, disabledReason: "", lastChangedBy: "", lastChangedAt: "" },
        latestExecution: { pipelineExecutionId: "", status: "" },
        actionStates: [
          {
            actionName: "",
            latestExecution: {
              actionExecutionId: "",
              pipelineExecutionId: "",
              attempt: 0,
              status: "",
              summary: "",
              approvalPending: false,
              lastStatusChange: "",
              externalExecutionUrl: "",
              errorDetails: { code: "", message: "" },
            },
          },
        ],
        waitingExecutions: [{ pipelineExecutionId: "", waitingReason: { code: "", message: "", since: "" } }],
      },
    ],
    created: "",
    updated: "",
  },
  "put-approval-result": {
    approvedAt: "",
    id: "",
    name: "",
    status: "",
    summary: "",
    approvalPending: false,
    approval: { approved: true, summary: "", by: "", at: "" },
  },
  "create-pipeline": { pipeline: { name: "", version: 0 } },
  "update-pipeline": { pipeline: { name: "", version: 0 } },
};

/** The input skeleton of the commands whose `--cli-input-json` is a document rather than option values. */
export const DOCUMENT_SKELETONS: Record<string, unknown> = {
  "create-pipeline": { pipeline: OUTPUT_SKELETONS["get-pipeline"], tags: [{ key: "", value: "" }] },
  "update-pipeline": { pipeline: OUTPUT_SKELETONS["get-pipeline"] },
  "import-pipeline": { pipeline: OUTPUT_SKELETONS["get-pipeline"] },
  "create-custom-action-type": {
    category: "Build",
    provider: "",
    version: "1",
    settings: {
      entityUrlTemplate: "",
      executionUrlTemplate: "",
      revisionUrlTemplate: "",
      thirdPartyConfigurationUrl: "",
    },
    configurationProperties: [
      {
        name: "",
        required: true,
        key: true,
        secret: false,
        queryable: false,
        description: "",
        type: "String",
      },
    ],
    inputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
    outputArtifactDetails: { minimumCount: 0, maximumCount: 1 },
  },
};
