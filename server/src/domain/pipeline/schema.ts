/**
 * The shape of a pipeline document as untrusted JSON: types, required fields, enums, no unknown
 * keys anywhere. Defaults are filled in here, so the output is the normalized document of
 * document.ts. Values (name patterns, ranges, references) are checked by the validation rules, not
 * here: a document with a bad name still parses, so every rule can run and report every problem.
 *
 * `null` is accepted wherever a field is optional and means the same as leaving it out.
 */
import { z } from "zod";
import {
  ACTION_CATEGORIES,
  ACTION_OWNERS,
  EXECUTION_MODES,
  ON_NEWER_REVISION_VALUES,
  RETRY_CONDITIONS,
} from "./document";

/** An object that rejects unknown keys; the message names the keys that are allowed. */
export function strictObject<S extends z.ZodRawShape>(shape: S) {
  const allowed = Object.keys(shape).join(", ");
  return z.strictObject(shape, {
    // Zod reports all unknown keys of one object in one issue without a path at this point;
    // zod-issues.ts splits it into one issue per key and prefixes "Unknown key "x"."
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `The allowed keys here are ${allowed}.` : undefined,
  });
}

/** Optional (missing or null); missing and null become `fallback()` — a fresh value each time. */
export function withDefault<T extends z.ZodType, D>(schema: T, fallback: () => D) {
  return schema.nullish().transform((value): z.output<T> | D => value ?? fallback());
}

function optional<T extends z.ZodType>(schema: T) {
  return withDefault(schema, () => null);
}

const awsMetadataSchema = optional(z.record(z.string(), z.unknown()));

const artifactRefSchema = strictObject({ name: z.string() });

const actionTypeIdSchema = strictObject({
  category: z.enum(ACTION_CATEGORIES),
  owner: z.enum(ACTION_OWNERS),
  provider: z.string(),
  version: z.string(),
});

export const actionSchema = strictObject({
  name: z.string(),
  actionTypeId: actionTypeIdSchema,
  runOrder: withDefault(z.number(), () => 1),
  configuration: withDefault(z.record(z.string(), z.string()), (): Record<string, string> => ({})),
  inputArtifacts: withDefault(z.array(artifactRefSchema), () => []),
  outputArtifacts: withDefault(z.array(artifactRefSchema), () => []),
  namespace: optional(z.string()),
  region: optional(z.string()),
  timeoutInMinutes: optional(z.number()),
  retryPolicy: optional(
    strictObject({
      maxAttempts: z.number(),
      backoffSeconds: withDefault(z.number(), () => 0),
      on: z.array(z.enum(RETRY_CONDITIONS)),
    }),
  ),
  awsMetadata: awsMetadataSchema,
});

export const stageSchema = strictObject({
  name: z.string(),
  actions: z.array(actionSchema),
  onNewerRevision: optional(z.enum(ON_NEWER_REVISION_VALUES)),
  awsMetadata: awsMetadataSchema,
});

const variableSchema = strictObject({
  name: z.string(),
  defaultValue: optional(z.string()),
  description: optional(z.string()),
});

const filterPatternsSchema = strictObject({
  includes: withDefault(z.array(z.string()), (): string[] => []),
  excludes: withDefault(z.array(z.string()), (): string[] => []),
});

const pushFilterSchema = strictObject({
  branches: optional(filterPatternsSchema),
  filePaths: optional(filterPatternsSchema),
  tags: optional(filterPatternsSchema),
});

const triggerSchema = strictObject({
  providerType: z.literal("Git"),
  gitConfiguration: strictObject({
    sourceActionName: z.string(),
    push: withDefault(z.array(pushFilterSchema), () => []),
  }),
});

export const pipelineDocumentSchema = strictObject({
  name: z.string(),
  executionMode: withDefault(z.enum(EXECUTION_MODES), () => "SUPERSEDED" as const),
  variables: withDefault(z.array(variableSchema), () => []),
  triggers: withDefault(z.array(triggerSchema), () => []),
  schedules: withDefault(
    z.array(strictObject({ cron: z.string(), timezone: optional(z.string()) })),
    (): Array<{ cron: string; timezone: string | null }> => [],
  ),
  stages: z.array(stageSchema),
  awsMetadata: awsMetadataSchema,
});
