import crypto from "node:crypto";
import type { DataSource, EntityManager } from "typeorm";
import type { Principal } from "../auth/principal";
import type { ActionTypeDefinition } from "../domain/action-types/action-type";
import { createRegistry } from "../domain/action-types/builtins";
import { parseCustomActionType } from "../domain/action-types/custom";
import {
  ARCHIVE_FORMAT,
  ARCHIVE_VERSION,
  archiveError,
  maskExecutionView,
  readArchive,
  type InstallationArchive,
} from "../domain/archive/format";
import { ConflictError, LimitExceededError, type ValidationIssue } from "../domain/errors";
import { FINAL_EXECUTION_STATUSES } from "../domain/execution/types";
import { MASK, targetIssues, visibleSettings } from "../domain/notifications/targets";
import { ruleIssues } from "../domain/notifications/rules";
import type { PipelineDocument } from "../domain/pipeline/document";
import { appendPath } from "../domain/pipeline/paths";
import { maskDocumentSecrets, SECRET_MASK, secretProperties } from "../domain/pipeline/secrets";
import { maskedSecretsRule } from "../domain/pipeline/validation/rules/masked-secrets";
import { specifiedRules } from "../domain/pipeline/validation/rules";
import { validatePipeline } from "../domain/pipeline/validation/validate";
import { tagIssues } from "../domain/pipeline/tags";
import { ArchiveStore } from "../persistence/archive-store";
import { auditedTransaction } from "../persistence/audit-store";
import {
  openTargetSettings,
  sealTargetSettings,
  sealWebhookSecret,
} from "../persistence/installation-secrets";
import type { SecretVault } from "../persistence/secret-vault";
import type { SecretReferences } from "./secret-references";
import { followPipelineSources } from "../persistence/source-poll-store";

/** What an import did, and what the operator still has to do by hand. */
export interface ImportReport {
  pipelines: number;
  pipelineVersions: number;
  customActionTypes: number;
  agentTokens: number;
  notificationTargets: number;
  notificationRules: number;
  /** Finished executions with their history (when the archive holds them). */
  executions: number;
  /** Pipelines whose webhook was recreated with a new secret: run createPipelineWebhook and give the sender the secret. */
  webhooksToRenew: string[];
  /** `pipeline/<name>: <path>` of secret configuration values the archive holds masked: update the pipeline with the value. */
  secretsToReenter: string[];
  /** Notification targets whose secret parts were masked; rules that use them are imported disabled. */
  targetsToReenter: string[];
}

export interface ArchiveOptions {
  maxPipelines: number;
  /** SLUICE_NOTIFY_ALLOW_HTTP. */
  allowHttpTargets: boolean;
  /** Targets on private addresses pass (SLUICE_NOTIFY_ALLOW_PRIVATE). */
  allowPrivateTargets: boolean;
  /** Told after an import committed (the source poller and the scheduler re-read the documents). */
  changed: () => void;
  /** Webhook secrets and notification target credentials are stored encrypted, and opened to export. */
  vault: SecretVault;
  /** The pipelines' `{{resolve:secret:NAME}}` references, checked for the importing principal. */
  references: SecretReferences;
}

const iso = (value: Date | string): string => new Date(value).toISOString();

/**
 * Export and import of an installation's definitions (domain/archive/format.ts). An export is read
 * in one REPEATABLE READ transaction, so it is one consistent moment; an import is one
 * transaction with the mutation's audit row: it is checked whole first, and on any problem
 * changes nothing.
 */
export class InstallationArchives {
  private readonly store: ArchiveStore;

  constructor(
    private readonly db: DataSource,
    private readonly options: ArchiveOptions,
    private readonly serverVersion: Record<string, unknown>,
  ) {
    this.store = new ArchiveStore(db);
  }

  async export(options: { includeExecutions?: boolean } = {}): Promise<InstallationArchive> {
    return this.store.snapshot(async (m) => {
      const {
        customTypes: customRows,
        pipelines,
        versions,
        webhooks,
        tokens,
        targets,
        rules,
        tags: tagRows,
      } = await this.store.exportRows(m);
      const registry = createRegistry(customRows.map((r) => r.definition));
      const openedTargets = await Promise.all(
        targets.map(async (t) => ({
          ...t,
          settings: await openTargetSettings(this.options.vault, t.settings),
        })),
      );
      const hookOf = new Map(webhooks.map((w) => [w.pipelineId, w]));
      const executions = options.includeExecutions ? await this.exportExecutions(m, registry) : undefined;
      return {
        format: ARCHIVE_FORMAT,
        formatVersion: ARCHIVE_VERSION,
        exportedAt: new Date().toISOString(),
        exportedBy: this.serverVersion,
        pipelines: pipelines.map((p) => {
          const hook = hookOf.get(p.id);
          return {
            name: p.name,
            version: p.version,
            createdBy: p.createdBy,
            createdAt: iso(p.createdAt),
            versions: versions
              .filter((v) => v.pipelineId === p.id)
              .map((v) => ({
                version: v.version,
                document: maskDocumentSecrets(v.document, registry) as unknown as Record<string, unknown>,
                createdBy: v.createdBy,
                createdAt: iso(v.createdAt),
              })),
            webhook: hook ? { createdBy: hook.createdBy, createdAt: iso(hook.createdAt) } : null,
            tags: tagRows.filter((t) => t.pipelineId === p.id).map(({ key, value }) => ({ key, value })),
          };
        }),
        customActionTypes: customRows.map((r) => ({
          definition: customTypeInput(r.definition),
          createdBy: r.createdBy,
          createdAt: iso(r.createdAt),
        })),
        agentTokens: tokens.map((t) => ({
          ...t,
          createdAt: iso(t.createdAt),
          revokedAt: t.revokedAt ? iso(t.revokedAt) : null,
        })),
        notificationTargets: openedTargets.map((t) => ({
          name: t.name,
          kind: t.kind,
          settings: visibleSettings(t.kind, t.settings),
          createdBy: t.createdBy,
        })),
        notificationRules: rules,
        ...(executions ? { executions } : {}),
      };
    });
  }

  /** Finished executions, oldest first, with their events and attempt ids; views as the API shows them. */
  private async exportExecutions(
    m: EntityManager,
    registry: ReturnType<typeof createRegistry>,
  ): Promise<NonNullable<InstallationArchive["executions"]>> {
    const rows = await this.store.executionRows(m, FINAL_EXECUTION_STATUSES);
    return rows.map((row) => ({
      ...row,
      startTime: iso(row.startTime),
      lastUpdateTime: iso(row.lastUpdateTime),
      view: maskExecutionView(row.view, registry) as unknown as Record<string, unknown>,
    }));
  }

  async import(input: unknown, principal: Principal): Promise<ImportReport> {
    const archive = readArchive(input);
    const checked = this.check(archive);
    const report = await auditedTransaction(this.db, async (m) => {
      await this.refuseClashes(m, archive);
      for (const [i, document] of checked.documents.entries()) {
        const pipeline = archive.pipelines[i]!;
        const current = pipeline.versions.findIndex((v) => v.version === pipeline.version);
        await this.options.references.check(
          m,
          document,
          principal,
          `archive.pipelines[${i}].versions[${current}].document`,
        );
      }
      return this.insert(m, archive, checked, principal);
    });
    this.options.changed();
    return report;
  }

  /** Everything about the archive that needs no database: every problem at once. */
  private check(archive: InstallationArchive): {
    documents: PipelineDocument[];
    secretsToReenter: string[];
    maskedTargets: Set<string>;
  } {
    const issues: ValidationIssue[] = [];
    const customs: ActionTypeDefinition[] = [];
    archive.customActionTypes.forEach((type, i) => {
      const parsed = parseCustomActionType(type.definition);
      const base = `archive.customActionTypes[${i}].definition`;
      if (parsed.ok) customs.push(parsed.definition);
      else issues.push(...parsed.issues.map((issue) => ({ ...issue, path: prefixed(base, issue.path) })));
    });
    const registry = createRegistry(customs);
    // A masked secret is expected in an archive: it is reported, not refused.
    const rules = specifiedRules.filter((rule) => rule !== maskedSecretsRule);
    const documents: PipelineDocument[] = [];
    const secretsToReenter: string[] = [];
    const names = new Set<string>();
    archive.pipelines.forEach((pipeline, i) => {
      const base = `archive.pipelines[${i}]`;
      if (names.has(pipeline.name)) issues.push({ path: `${base}.name`, message: "names a pipeline twice" });
      names.add(pipeline.name);
      issues.push(...tagIssues(pipeline.tags ?? [], `${base}.tags`));
      const numbers = pipeline.versions.map((v) => v.version);
      if (new Set(numbers).size !== numbers.length)
        issues.push({ path: `${base}.versions`, message: "holds a version number twice" });
      const index = pipeline.versions.findIndex((v) => v.version === pipeline.version);
      if (index < 0) {
        issues.push({ path: `${base}.version`, message: `version ${pipeline.version} is not in versions` });
        return;
      }
      const current = pipeline.versions[index]!;
      const result = validatePipeline(current.document, registry, { rules });
      const at = `${base}.versions[${index}].document`;
      if (!result.ok) {
        issues.push(...result.issues.map((issue) => ({ ...issue, path: prefixed(at, issue.path) })));
        return;
      }
      if (result.document.name !== pipeline.name)
        issues.push({ path: `${at}.name`, message: `must be the pipeline's name, "${pipeline.name}"` });
      documents.push(result.document);
      result.document.stages.forEach((stage, s) =>
        stage.actions.forEach((action, a) => {
          for (const secret of secretProperties(registry.find(action.actionTypeId))) {
            if (action.configuration[secret] === SECRET_MASK)
              secretsToReenter.push(
                `pipeline/${pipeline.name}: ${appendPath(`stages[${s}].actions[${a}].configuration`, secret)}`,
              );
          }
        }),
      );
    });
    const hashes = archive.agentTokens.map((t) => t.tokenHash);
    if (new Set(hashes).size !== hashes.length)
      issues.push({ path: "archive.agentTokens", message: "holds a token twice" });
    const targetNames = new Set<string>();
    const maskedTargets = new Set<string>();
    archive.notificationTargets.forEach((target, i) => {
      const base = `archive.notificationTargets[${i}]`;
      if (targetNames.has(target.name))
        issues.push({ path: `${base}.name`, message: "names a target twice" });
      targetNames.add(target.name);
      issues.push(
        ...targetIssues(
          { ...target.settings, name: target.name, kind: target.kind },
          { allowHttp: this.options.allowHttpTargets, allowPrivate: this.options.allowPrivateTargets },
          base,
        ),
      );
      const s = target.settings;
      if (s.secret === MASK || s.url?.includes(MASK) || s.headers?.some((h) => h.value === MASK))
        maskedTargets.add(target.name);
    });
    const ruleNames = new Set<string>();
    archive.notificationRules.forEach((rule, i) => {
      const base = `archive.notificationRules[${i}]`;
      if (ruleNames.has(rule.name)) issues.push({ path: `${base}.name`, message: "names a rule twice" });
      ruleNames.add(rule.name);
      issues.push(...ruleIssues({ ...rule, targetIds: rule.targets }, base));
      rule.targets.forEach((name, t) => {
        if (!targetNames.has(name))
          issues.push({
            path: `${base}.targets[${t}]`,
            message: `names no target of the archive ("${name}")`,
          });
      });
    });
    const executionIds = new Set<string>();
    (archive.executions ?? []).forEach((execution, i) => {
      const base = `archive.executions[${i}]`;
      if (executionIds.has(execution.id))
        issues.push({ path: `${base}.id`, message: "names an execution twice" });
      executionIds.add(execution.id);
      const pipeline = archive.pipelines.find((p) => p.name === execution.pipelineName);
      if (!pipeline) {
        issues.push({
          path: `${base}.pipelineName`,
          message: `names no pipeline of the archive ("${execution.pipelineName}")`,
        });
      } else if (!pipeline.versions.some((v) => v.version === execution.pipelineVersion)) {
        issues.push({
          path: `${base}.pipelineVersion`,
          message: `is not a version of pipeline "${pipeline.name}"`,
        });
      }
    });
    if (issues.length > 0) throw archiveError(issues);
    return { documents, secretsToReenter, maskedTargets };
  }

  /** An import adds to an installation and never overwrites: any name already taken refuses it all. */
  private async refuseClashes(m: EntityManager, archive: InstallationArchive): Promise<void> {
    const clashes = await this.store.clashes(m, {
      pipelines: archive.pipelines.map((p) => p.name),
      customActionTypes: archive.customActionTypes.map((t) => {
        const d = t.definition as { category?: string; provider?: string; version?: string };
        return `${d.category}/${d.provider}/${d.version}`;
      }),
      tokenHashes: archive.agentTokens.map((t) => t.tokenHash),
      targets: archive.notificationTargets.map((t) => t.name),
      rules: archive.notificationRules.map((r) => r.name),
      executionIds: (archive.executions ?? []).flatMap((e) => [e.id, ...e.actionExecutionIds]),
    });
    if (clashes.length > 0) {
      throw new ConflictError(
        `The installation already has ${clashes.join(", ")}: an import only adds, so nothing was imported. Import into a new installation, or delete these first.`,
        { clashes },
      );
    }
    const count = await this.store.pipelineCount(m);
    if (count + archive.pipelines.length > this.options.maxPipelines) {
      throw new LimitExceededError(
        `The import would bring this installation to ${count + archive.pipelines.length} pipelines, above its limit (SLUICE_MAX_PIPELINES=${this.options.maxPipelines}).`,
      );
    }
  }

  private async insert(
    m: EntityManager,
    archive: InstallationArchive,
    checked: { documents: PipelineDocument[]; secretsToReenter: string[]; maskedTargets: Set<string> },
    principal: Principal,
  ): Promise<ImportReport> {
    const report: ImportReport = {
      pipelines: 0,
      pipelineVersions: 0,
      customActionTypes: 0,
      agentTokens: 0,
      notificationTargets: 0,
      notificationRules: 0,
      executions: 0,
      webhooksToRenew: [],
      secretsToReenter: checked.secretsToReenter,
      targetsToReenter: [...checked.maskedTargets].sort(),
    };
    for (const type of archive.customActionTypes) {
      const definition = parseCustomActionType(type.definition);
      if (!definition.ok) continue; // checked
      await this.store.insertCustomActionType(m, definition.definition, type.createdBy, type.createdAt);
      report.customActionTypes++;
    }
    const pipelineIds = new Map<string, string>();
    for (const [i, pipeline] of archive.pipelines.entries()) {
      const current = checked.documents[i]!;
      const id = await this.store.insertPipeline(m, pipeline, current, principal.id);
      for (const version of pipeline.versions) {
        const document = version.version === pipeline.version ? current : version.document;
        await this.store.insertPipelineVersion(m, id, version, document);
        report.pipelineVersions++;
      }
      if (pipeline.webhook) {
        // The secret is not in the archive: a new one nobody knows yet, so pushes are refused
        // until createPipelineWebhook shows one to give the sender.
        const secret = crypto.randomBytes(32).toString("base64url");
        await this.store.insertWebhook(
          m,
          id,
          await sealWebhookSecret(this.options.vault, secret, m),
          pipeline.webhook,
        );
        report.webhooksToRenew.push(pipeline.name);
      }
      await this.store.insertTags(m, id, pipeline.tags ?? []);
      await followPipelineSources(m, id);
      pipelineIds.set(pipeline.name, id);
      report.pipelines++;
    }
    for (const execution of archive.executions ?? []) {
      const pipelineId = pipelineIds.get(execution.pipelineName)!;
      await this.store.insertExecution(m, pipelineId, execution);
      report.executions++;
    }
    // The counts by status /metrics serves (execution_counts), of the pipelines just imported.
    await this.store.recountExecutions(m, [...pipelineIds.values()]);
    for (const token of archive.agentTokens) {
      await this.store.insertAgentToken(m, token);
      report.agentTokens++;
    }
    const targetIds = new Map<string, string>();
    for (const target of archive.notificationTargets) {
      const id = await this.store.insertTarget(
        m,
        target,
        await sealTargetSettings(this.options.vault, target.settings, m),
      );
      targetIds.set(target.name, id);
      report.notificationTargets++;
    }
    for (const rule of archive.notificationRules) {
      // A rule that would send through a target whose secret parts are masked waits, disabled.
      const enabled = rule.enabled && !rule.targets.some((t) => checked.maskedTargets.has(t));
      await this.store.insertRule(
        m,
        rule,
        enabled,
        rule.targets.map((target) => targetIds.get(target)),
      );
      report.notificationRules++;
    }
    return report;
  }
}

/** A custom type as createCustomActionType takes it (and parseCustomActionType reads it back). */
function customTypeInput(definition: ActionTypeDefinition): Record<string, unknown> {
  return {
    category: definition.id.category,
    provider: definition.id.provider,
    version: definition.id.version,
    settings: definition.settings,
    configurationProperties: definition.configurationProperties,
    inputArtifactDetails: definition.inputArtifactDetails,
    outputArtifactDetails: definition.outputArtifactDetails,
  };
}

function prefixed(base: string, path: string): string {
  if (path === "") return base;
  return path.startsWith("[") ? `${base}${path}` : `${base}.${path}`;
}
