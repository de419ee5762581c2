/**
 * The installation archive: what `sluice admin export` writes and `sluice admin import` reads
 * (docs/backup.md). One JSON value with a format name and a version; the definitions of an
 * installation, never a secret in clear: pipeline documents with their secret values masked,
 * agent tokens as their SHA-256 digests, notification targets as the API shows them.
 *
 * A reader accepts every version up to its own and refuses a newer one (a newer server may have
 * written fields this one would drop without a word).
 */
import { z } from "zod";
import type { ActionTypeRegistry } from "../action-types/action-type";
import { DomainError, type ValidationIssue } from "../errors";
import { FINAL_EXECUTION_STATUSES, type ExecutionView } from "../execution/types";
import { maskConfiguration, secretProperties } from "../pipeline/secrets";
import { orderIssues } from "../pipeline/issue-order";
import { fromZodIssues } from "../pipeline/zod-issues";

export const ARCHIVE_FORMAT = "sluice-installation-archive";
export const ARCHIVE_VERSION = 1;

const isoTime = z.string().refine((value) => !Number.isNaN(Date.parse(value)), {
  message: "an ISO-8601 time",
});
const name = z.string().min(1).max(200);

const versionSchema = z.strictObject({
  version: z.number().int().positive(),
  document: z.record(z.string(), z.unknown()),
  createdBy: z.string().min(1).max(300),
  createdAt: isoTime,
});

const pipelineSchema = z.strictObject({
  name,
  /** The current version; `versions` holds it and every earlier one still stored. */
  version: z.number().int().positive(),
  createdBy: z.string().min(1).max(300),
  createdAt: isoTime,
  versions: z.array(versionSchema).min(1),
  /** The pipeline had a webhook; its secret is not exported (a new one is made on import). */
  webhook: z.strictObject({ createdBy: z.string().min(1).max(300), createdAt: isoTime }).nullable(),
  /** Its tags, by key (absent from archives written before tags: none). Checked as tagResource's. */
  tags: z.array(z.strictObject({ key: z.string(), value: z.string() })).optional(),
});

const actionTypeSchema = z.strictObject({
  definition: z.record(z.string(), z.unknown()),
  createdBy: z.string().min(1).max(300),
  createdAt: isoTime,
});

const agentTokenSchema = z.strictObject({
  description: z.string().max(500),
  /** SHA-256 of the token, hex: agents keep their tokens across a restore. */
  tokenHash: z.string().regex(/^[0-9a-f]{64}$/, { message: "a SHA-256 digest in hex" }),
  createdBy: z.string().min(1).max(300),
  createdAt: isoTime,
  revokedAt: isoTime.nullable(),
  revokedBy: z.string().max(300).nullable(),
});

const targetSchema = z.strictObject({
  name,
  kind: z.enum(["WEBHOOK", "SLACK", "TEAMS", "EMAIL", "NATS"]),
  /** As the API shows them: `****` where a secret was. */
  settings: z.strictObject({
    url: z.string().max(2000).nullable().optional(),
    secret: z.string().max(200).nullable().optional(),
    headers: z
      .array(z.strictObject({ name: z.string().max(64), value: z.string().max(4000) }))
      .max(50)
      .nullable()
      .optional(),
    emailAddresses: z.array(z.string().max(320)).max(100).nullable().optional(),
    subject: z.string().max(200).nullable().optional(),
  }),
  createdBy: z.string().min(1).max(300),
});

const ruleSchema = z.strictObject({
  name,
  pipelineName: z.string().nullable(),
  eventTypes: z.array(z.string()).min(1).max(100),
  filter: z
    .strictObject({
      stageNames: z.array(z.string()).nullable().optional(),
      branches: z.array(z.string()).nullable().optional(),
    })
    .nullable(),
  detailLevel: z.enum(["BASIC", "FULL"]),
  enabled: z.boolean(),
  /** Target names (of this archive). */
  targets: z.array(name).min(1).max(20),
  createdBy: z.string().min(1).max(300),
});

/** A finished execution with its history (only with includeExecutions); its logs and artifacts stay in NATS. */
const executionSchema = z.strictObject({
  id: z.uuid(),
  pipelineName: name,
  pipelineVersion: z.number().int().positive(),
  status: z.enum(FINAL_EXECUTION_STATUSES as unknown as [string, ...string[]]),
  triggerType: z.string().min(1).max(64),
  clientRequestToken: z.string().max(256).nullable(),
  startTime: isoTime,
  lastUpdateTime: isoTime,
  sequence: z.number().int().min(0),
  /** As the API shows it: secret configuration values masked. */
  view: z.record(z.string(), z.unknown()),
  events: z.array(
    z.strictObject({ sequence: z.number().int().min(0), event: z.record(z.string(), z.unknown()) }),
  ),
  actionExecutionIds: z.array(z.uuid()),
});

const archiveSchema = z.strictObject({
  format: z.literal(ARCHIVE_FORMAT),
  formatVersion: z.literal(ARCHIVE_VERSION),
  exportedAt: isoTime,
  /** The server that wrote it: `{ server, protocol }` versions. */
  exportedBy: z.record(z.string(), z.unknown()),
  pipelines: z.array(pipelineSchema),
  customActionTypes: z.array(actionTypeSchema),
  agentTokens: z.array(agentTokenSchema),
  notificationTargets: z.array(targetSchema),
  notificationRules: z.array(ruleSchema),
  executions: z.array(executionSchema).optional(),
});

export type InstallationArchive = z.infer<typeof archiveSchema>;
export type ArchivedPipeline = z.infer<typeof pipelineSchema>;
export type ArchivedTarget = z.infer<typeof targetSchema>;
export type ArchivedRule = z.infer<typeof ruleSchema>;
export type ArchivedExecution = z.infer<typeof executionSchema>;

/** An execution's view with the secret values of its actions' resolved configurations masked. */
export function maskExecutionView(view: ExecutionView, registry: ActionTypeRegistry): ExecutionView {
  return {
    ...view,
    stages: view.stages.map((stage) => ({
      ...stage,
      actions: stage.actions.map((action) => {
        const secrets = secretProperties(registry.find(action.actionTypeId));
        return {
          ...action,
          resolvedConfiguration: maskConfiguration(action.resolvedConfiguration, secrets),
          attempts: action.attempts.map((attempt) => ({
            ...attempt,
            resolvedConfiguration: maskConfiguration(attempt.resolvedConfiguration, secrets),
          })),
        };
      }),
    })),
  };
}

/** A bad archive: every problem at once, each with its path (`archive.pipelines[2].versions[0]`). */
export function archiveError(issues: ValidationIssue[], summary?: string): DomainError {
  const ordered = orderIssues(issues);
  return new DomainError(
    "BAD_USER_INPUT",
    summary ??
      `The archive cannot be imported: ${ordered.length} problem${ordered.length === 1 ? "" : "s"}, the first at ${ordered[0]?.path}: ${ordered[0]?.message}`,
    { validationErrors: ordered.map(({ path, message }) => ({ path, message })) },
  );
}

/**
 * Reads an archive. A newer format version is refused with reason UNSUPPORTED_FORMAT_VERSION
 * before anything else is looked at; any other problem is reported with its path.
 */
export function readArchive(input: unknown): InstallationArchive {
  if (input === null || typeof input !== "object" || Array.isArray(input)) {
    throw archiveError(
      [{ path: "archive", message: "must be the JSON object `sluice admin export` writes" }],
      "The archive must be the JSON object `sluice admin export` writes.",
    );
  }
  const header = input as Record<string, unknown>;
  if (header.format !== ARCHIVE_FORMAT) {
    throw archiveError(
      [{ path: "archive.format", message: `must be "${ARCHIVE_FORMAT}"` }],
      `This is not a Sluice installation archive (its "format" is not "${ARCHIVE_FORMAT}").`,
    );
  }
  const version = header.formatVersion;
  if (typeof version === "number" && Number.isInteger(version) && version > ARCHIVE_VERSION) {
    throw new DomainError(
      "BAD_USER_INPUT",
      `The archive has format version ${version}; this server reads versions up to ${ARCHIVE_VERSION}. Import it into a Sluice at least as new as the one that exported it.`,
      { reason: "UNSUPPORTED_FORMAT_VERSION", formatVersion: version, supportedVersion: ARCHIVE_VERSION },
    );
  }
  const parsed = archiveSchema.safeParse(input);
  if (!parsed.success) throw archiveError(fromZodIssues(parsed.error.issues, ["archive"]));
  return parsed.data;
}
