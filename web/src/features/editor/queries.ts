import type { CombinedError } from "@urql/core";
import { graphql } from "@/gql";
import type { Issue } from "./draft";

export const ACTION_TYPES = graphql(`
  query EditorActionTypes {
    listActionTypes(first: 100) {
      nodes {
        id {
          category
          owner
          provider
          version
        }
        description
        configurationProperties {
          name
          required
          secret
          description
          type
        }
        inputArtifactDetails {
          minimumCount
          maximumCount
        }
        outputArtifactDetails {
          minimumCount
          maximumCount
        }
      }
    }
  }
`);

export const PIPELINE_DOCUMENT = graphql(`
  query EditorPipeline($name: String!) {
    pipeline(name: $name) {
      id
      name
      version
      versionCreatedBy
      versionCreatedAt
      document(format: SLUICE)
    }
  }
`);

export const PIPELINE_VERSION = graphql(`
  query EditorPipelineVersion($name: String!) {
    pipeline(name: $name) {
      id
      version
      versionCreatedBy
      versionCreatedAt
    }
  }
`);

export const CREATE_PIPELINE = graphql(`
  mutation EditorCreatePipeline($input: PipelineInput!) {
    createPipelineV2(input: { pipeline: $input }) {
      pipeline {
        id
        name
        version
      }
    }
  }
`);

export const UPDATE_PIPELINE = graphql(`
  mutation EditorUpdatePipeline($input: PipelineInput!, $expectedVersion: Int!) {
    updatePipelineV2(input: { pipeline: $input, expectedVersion: $expectedVersion }) {
      pipeline {
        id
        name
        version
        versionCreatedBy
        versionCreatedAt
      }
    }
  }
`);

export const IMPORT_PIPELINE = graphql(`
  mutation EditorImportPipeline($document: JSON!) {
    importPipelineV2(input: { document: $document }) {
      pipeline {
        id
        name
      }
      warnings {
        path
        message
      }
    }
  }
`);

/** What a failed mutation means for the editor. */
export interface SaveFailure {
  code: string | null;
  message: string;
  /** BAD_USER_INPUT / LIMIT_EXCEEDED: every offending field. */
  issues: Issue[];
}

export function saveFailure(error: CombinedError): SaveFailure {
  const first = error.graphQLErrors[0];
  if (!first)
    return {
      code: null,
      message: error.networkError ? "The server does not answer." : error.message,
      issues: [],
    };
  const extensions = first.extensions as { code?: unknown; validationErrors?: unknown };
  const issues = Array.isArray(extensions.validationErrors)
    ? (extensions.validationErrors as Array<{ path?: unknown; message?: unknown }>).map((e) => ({
        path: typeof e.path === "string" ? e.path : "",
        message: typeof e.message === "string" ? e.message : String(e.message),
      }))
    : [];
  return {
    code: typeof extensions.code === "string" ? extensions.code : null,
    message: first.message,
    issues,
  };
}
