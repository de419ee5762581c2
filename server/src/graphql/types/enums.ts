import { registerEnumType } from "type-graphql";

export enum ExecutionModeEnum {
  SUPERSEDED = "SUPERSEDED",
  QUEUED = "QUEUED",
  PARALLEL = "PARALLEL",
}
registerEnumType(ExecutionModeEnum, {
  name: "ExecutionMode",
  description: "How several executions share a pipeline's stages.",
  valuesConfig: {
    SUPERSEDED: {
      description: "A stage works on one execution; a newer one waiting at its entry replaces an older one.",
    },
    QUEUED: { description: "A stage works on one execution; the others wait in order." },
    PARALLEL: { description: "Executions run independently of each other." },
  },
});

export enum DocumentFormat {
  SLUICE = "SLUICE",
  AWS = "AWS",
}
registerEnumType(DocumentFormat, {
  name: "DocumentFormat",
  description: "The shape of an exported pipeline document.",
  valuesConfig: {
    SLUICE: { description: "Sluice's own document: post it again as the input of createPipeline." },
    AWS: { description: "The JSON `aws codepipeline get-pipeline` prints, with AWS-only fields restored." },
  },
});
