/** A small valid document: Git source → Shell build, named `name`. */
export function simplePipeline(name: string, extra: Record<string, unknown> = {}): Record<string, any> {
  return {
    name,
    executionMode: "SUPERSEDED",
    variables: [{ name: "Env", defaultValue: "staging", description: "where to deploy" }],
    triggers: [],
    stages: [
      {
        name: "Source",
        actions: [
          {
            name: "Checkout",
            actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
            runOrder: 1,
            configuration: { Repository: "https://git.example/app.git", Branch: "main" },
            inputArtifacts: [],
            outputArtifacts: [{ name: "SourceCode" }],
            namespace: "SourceVariables",
          },
        ],
      },
      {
        name: "Build",
        actions: [
          {
            name: "Compile",
            actionTypeId: { category: "Build", owner: "Sluice", provider: "Shell", version: "1" },
            runOrder: 1,
            configuration: { Commands: "make build COMMIT=#{SourceVariables.CommitId} ENV=#{variables.Env}" },
            inputArtifacts: [{ name: "SourceCode" }],
            outputArtifacts: [{ name: "BuildOutput" }],
          },
        ],
      },
    ],
    ...extra,
  };
}

export const CREATE = /* GraphQL */ `
  mutation ($input: PipelineInput!) {
    createPipeline(input: $input) {
      id
      name
      version
      latestVersion
      stages {
        name
        actions {
          name
          runOrder
        }
      }
    }
  }
`;

export const DOCUMENT = /* GraphQL */ `
  query ($name: String!, $version: Int, $format: DocumentFormat! = SLUICE) {
    pipeline(name: $name, version: $version) {
      name
      version
      latestVersion
      document(format: $format)
    }
  }
`;
