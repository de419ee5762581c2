import { isDeepStrictEqual } from "node:util";
import { natsNames, type NatsNames } from "@sluice/protocol";
import type { DataSource, EntityManager } from "typeorm";
import { QueryFailedError } from "typeorm";
import type { ActionTypeDefinition } from "../domain/action-types/action-type";
import { createRegistry } from "../domain/action-types/builtins";
import { parseCustomActionType } from "../domain/action-types/custom";
import { ConflictError, LimitExceededError, NotFoundError, ValidationError } from "../domain/errors";
import { MAX_CUSTOM_ACTION_TYPES } from "../domain/limits";
import { detectDocumentFormat } from "../domain/pipeline/aws/detect";
import { fromAwsDocument } from "../domain/pipeline/aws/import";
import type { PipelineEvent } from "../domain/execution";
import type { ActionTypeId, PipelineDocument } from "../domain/pipeline/document";
import { applyStageEdits, type StageEdit } from "../domain/pipeline/edits";
import { validatePipeline } from "../domain/pipeline/validation/validate";
import { MAX_TAGS_PER_RESOURCE, mergeTags, tagIssues, tagKeyIssues, type Tag } from "../domain/pipeline/tags";
import { actingAccount, DEFAULT_ACCOUNT, type Principal } from "../auth/principal";
import { PipelineEntity } from "../persistence/entities/pipeline.entity";
import { auditedTransaction } from "../persistence/audit-store";
import { advisoryLock } from "../persistence/transaction";
import { OutboxStore, outboxMessage } from "../persistence/outbox-store";
import { PipelineStore } from "../persistence/pipeline-store";
import type { SecretVault } from "../persistence/secret-vault";
import type { ActionTypeRegistry } from "../domain/action-types/action-type";
import type { Clock } from "./clock";
import type { SecretReferences } from "./secret-references";
import { followPipelineSources } from "../persistence/source-poll-store";

export interface ImportWarning {
  path: string;
  message: string;
}

export interface DefinitionLimits {
  maxPipelines: number;
}

/** Serializes creations so that the pipeline quota and name checks hold under concurrency. */
const CREATE_LOCK = 0x5_1c_e0_01;
const ACTION_TYPE_LOCK = 0x5_1c_e0_02;

/**
 * Changes to pipeline definitions and custom action types. Each change is one transaction:
 * validate the whole document, write the pipeline row and a new immutable version together.
 */
export class PipelineDefinitions {
  private readonly store: PipelineStore;

  private readonly listeners = new Set<() => void>();
  private readonly committedListeners = new Set<() => void>();

  private readonly names: NatsNames | null;

  constructor(
    private readonly db: DataSource,
    private readonly limits: DefinitionLimits,
    private readonly clock: Clock,
    /** Encrypts secret values before any document is stored (persistence/secret-vault.ts). */
    private readonly vault: SecretVault,
    /** Checks `{{resolve:secret:NAME}}` references against the store and the saving principal. */
    private readonly references: SecretReferences,
    /** The installation's NATS prefix, for definition events; none: no events (tests of definitions alone). */
    natsPrefix?: string,
  ) {
    this.store = new PipelineStore(db);
    this.names = natsPrefix === undefined ? null : natsNames(natsPrefix);
  }

  /**
   * Told when a document is written or a pipeline deleted (inside the transaction: a listener
   * should only note that something changed, e.g. the source poller re-reads on its next round).
   */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** Called after a definition change committed (the outbox relay sends its event at once). */
  onCommitted(listener: () => void): void {
    this.committedListeners.add(listener);
  }

  /** A definition change's transaction, with the audit row of the mutation that asked for it. */
  private async write<T>(work: (m: EntityManager) => Promise<T>): Promise<T> {
    const result = await auditedTransaction(this.db, work);
    for (const listener of this.committedListeners) listener();
    return result;
  }

  /**
   * The definition change as a pipeline event (pipelineEvents subscribers see pipelines appear,
   * change and go), through the outbox in the change's own transaction.
   */
  private async announce(
    m: EntityManager,
    pipeline: PipelineEntity,
    type: "PIPELINE_CREATED" | "PIPELINE_UPDATED" | "PIPELINE_DELETED",
    by: string | null,
  ): Promise<void> {
    if (!this.names) return;
    const event: PipelineEvent = {
      pipelineName: pipeline.name,
      ...(pipeline.account === DEFAULT_ACCOUNT ? {} : { account: pipeline.account }),
      type,
      executionId: null,
      sequence: null,
      pipelineVersion: pipeline.version,
      ...(by ? { by } : {}),
      at: this.clock().toISOString(),
    };
    await new OutboxStore(this.db).enqueue(m, [
      outboxMessage("definitionEvent", {
        msgId: `definition:${pipeline.id}:${type === "PIPELINE_DELETED" ? "deleted" : pipeline.version}`,
        subject: this.names.subjects.event(pipeline.name),
        payload: event,
      }),
    ]);
  }

  /** A new pipeline, version 1, with its tags (CodePipeline's CreatePipeline `tags`). */
  async create(input: unknown, principal: Principal, tags: readonly Tag[] = []): Promise<PipelineEntity> {
    const badTags = tagIssues(tags);
    return this.write(async (m) => {
      const registry = createRegistry(await this.store.customActionTypes(m));
      const result = validatePipeline(input, registry, { previous: null });
      // Every problem at once: the document's and the tags'.
      if (!result.ok || badTags.length > 0)
        throw new ValidationError([...(result.ok ? [] : result.issues), ...badTags]);
      const pipeline = await this.insert(m, result.document, principal, registry);
      await this.store.writeTags(m, pipeline.id, tags);
      return pipeline;
    });
  }

  /**
   * Adds tags to a pipeline, or gives a key it holds a new value (TagResource). It then holds at
   * most 50 (LIMIT_EXCEEDED otherwise). Writes no new version of the document.
   */
  async tagResource(account: string, name: string, tags: readonly Tag[]): Promise<Tag[]> {
    const issues = tagIssues(tags);
    if (issues.length > 0) throw new ValidationError(issues);
    return auditedTransaction(this.db, async (m) => {
      const pipeline = await this.lockForTags(m, account, name);
      const merged = mergeTags(await this.store.tags(pipeline.id, m), tags);
      if (merged.length > MAX_TAGS_PER_RESOURCE) {
        throw new ValidationError([
          {
            path: "tags",
            message: `A resource has at most ${MAX_TAGS_PER_RESOURCE} tags; pipeline "${name}" would have ${merged.length}.`,
            limit: true,
          },
        ]);
      }
      await this.store.writeTags(m, pipeline.id, tags);
      return this.store.tags(pipeline.id, m);
    });
  }

  /** Removes tags from a pipeline by key (UntagResource); a key it does not hold is no error. */
  async untagResource(account: string, name: string, keys: readonly string[]): Promise<Tag[]> {
    const issues = tagKeyIssues(keys);
    if (issues.length > 0) throw new ValidationError(issues);
    return auditedTransaction(this.db, async (m) => {
      const pipeline = await this.lockForTags(m, account, name);
      await this.store.deleteTags(m, pipeline.id, keys);
      return this.store.tags(pipeline.id, m);
    });
  }

  /** The pipeline's row, locked: concurrent tag changes of one pipeline take turns (the 50-tag limit holds). */
  private async lockForTags(m: EntityManager, account: string, name: string): Promise<{ id: string }> {
    const row = await this.store.lockIdByName(m, account, name);
    if (!row) throw new NotFoundError(`No pipeline is named "${name}".`);
    return row;
  }

  async update(input: unknown, expectedVersion: number, principal: Principal): Promise<PipelineEntity> {
    return this.write(async (m) => {
      const registry = createRegistry(await this.store.customActionTypes(m));
      // The stored version's secrets stand behind the masks the API showed (domain/pipeline/secrets.ts).
      const name = (input as { name?: unknown } | null)?.name;
      const account = actingAccount(principal);
      const stored = typeof name === "string" ? await this.store.findByName(account, name, m) : null;
      let document = this.validOrThrow(input, registry, stored?.document ?? null);
      const current = await this.lockForChange(m, account, document.name, expectedVersion);
      if (stored?.version !== current.version)
        document = this.validOrThrow(input, registry, current.document);
      return this.writeVersion(m, current, document, principal, registry);
    });
  }

  async editStages(
    name: string,
    expectedVersion: number,
    edits: StageEdit[],
    principal: Principal,
  ): Promise<PipelineEntity> {
    return this.write(async (m) => {
      const current = await this.lockForChange(m, actingAccount(principal), name, expectedVersion);
      const edited = applyStageEdits(current.document, edits);
      if (!edited.ok) throw new ValidationError(edited.issues);
      const registry = createRegistry(await this.store.customActionTypes(m));
      const document = this.validOrThrow(edited.document, registry, current.document);
      if (document.name !== name) {
        throw new ValidationError([{ path: "name", message: "editStages cannot rename the pipeline." }]);
      }
      return this.writeVersion(m, current, document, principal, registry);
    });
  }

  async delete(account: string, name: string, principal?: Principal): Promise<void> {
    await this.write(async (m) => {
      const pipeline = await this.store.findByName(account, name, m);
      if (!pipeline) throw new NotFoundError(`No pipeline is named "${name}".`);
      // The engine locks the runtime row first and the pipeline row (FOR KEY SHARE, by the rows it
      // inserts) second; deleting the pipeline first and cascading to the runtime would take them
      // the other way round and deadlock with an event of the pipeline (its first job's accept).
      await this.store.lockRuntime(m, pipeline.id);
      await this.store.deletePipeline(m, pipeline.id);
      await this.announce(m, pipeline, "PIPELINE_DELETED", principal?.id ?? null);
      this.changed();
    });
  }

  /**
   * Imports Sluice's own document or the JSON of `aws codepipeline get-pipeline`. AWS providers
   * without a Sluice equivalent become Custom action types, created in the same transaction.
   */
  async import(
    json: unknown,
    principal: Principal,
  ): Promise<{ pipeline: PipelineEntity; warnings: ImportWarning[] }> {
    return this.write(async (m) => {
      const custom = await this.store.customActionTypes(m);
      if (detectDocumentFormat(json) === "SLUICE") {
        const registry = createRegistry(custom);
        const document = this.validOrThrow(json, registry);
        return { pipeline: await this.insert(m, document, principal, registry), warnings: [] };
      }
      const converted = fromAwsDocument(json, createRegistry(custom));
      if (!converted.ok) throw new ValidationError(converted.issues);
      const registry = createRegistry([...custom, ...converted.customTypes]);
      const document = this.validOrThrow(converted.document, registry);
      for (const definition of converted.customTypes) {
        await this.insertActionType(m, definition, principal);
      }
      return { pipeline: await this.insert(m, document, principal, registry), warnings: converted.warnings };
    });
  }

  async createCustomActionType(input: unknown, principal: Principal): Promise<ActionTypeDefinition> {
    const parsed = parseCustomActionType(input);
    if (!parsed.ok) throw new ValidationError(parsed.issues);
    return auditedTransaction(this.db, async (m) => {
      await this.insertActionType(m, parsed.definition, principal);
      return parsed.definition;
    });
  }

  async deleteCustomActionType(id: Omit<ActionTypeId, "owner">): Promise<void> {
    await auditedTransaction(this.db, async (m) => {
      await advisoryLock(m, ACTION_TYPE_LOCK);
      const users = await this.store.pipelinesUsingActionType({ ...id, owner: "Custom" }, m);
      if (users.length > 0) {
        throw new ConflictError(
          `The action type ${describe(id)} is used by ${users.length} pipeline(s): ${users.join(", ")}. Remove those actions first.`,
          { pipelines: users },
        );
      }
      if (!(await this.store.deleteCustomActionType(m, id)))
        throw new NotFoundError(`No custom action type ${describe(id)} exists.`);
    });
  }

  private validOrThrow(
    input: unknown,
    registry: ReturnType<typeof createRegistry>,
    previous: PipelineDocument | null = null,
  ): PipelineDocument {
    const result = validatePipeline(input, registry, { previous });
    if (!result.ok) throw new ValidationError(result.issues);
    return result.document;
  }

  private async insert(
    m: EntityManager,
    clear: PipelineDocument,
    principal: Principal,
    registry: ActionTypeRegistry,
  ): Promise<PipelineEntity> {
    this.changed();
    await this.references.check(m, clear, principal);
    const document = await this.vault.sealDocument(m, clear, null, registry);
    await advisoryLock(m, CREATE_LOCK);
    const account = actingAccount(principal);
    if (await this.store.findByName(account, document.name, m)) {
      throw new ConflictError(`A pipeline named "${document.name}" already exists.`);
    }
    const count = await this.store.pipelineCount(m);
    if (count >= this.limits.maxPipelines) {
      throw new LimitExceededError(
        `This installation already holds ${count} pipelines, its limit (SLUICE_MAX_PIPELINES=${this.limits.maxPipelines}).`,
      );
    }
    const now = this.clock();
    let pipeline: PipelineEntity;
    try {
      pipeline = await this.store.insertPipeline(m, {
        account,
        name: document.name,
        version: 1,
        document,
        createdBy: principal.id,
        updatedBy: principal.id,
        createdAt: now,
        updatedAt: now,
        lastActivityAt: now,
      });
    } catch (error) {
      throw uniqueViolation(error)
        ? new ConflictError(`A pipeline named "${document.name}" already exists.`)
        : error;
    }
    await this.store.insertVersion(m, {
      pipelineId: pipeline.id,
      version: 1,
      document,
      createdBy: principal.id,
      createdAt: now,
    });
    await followPipelineSources(m, pipeline.id);
    await this.announce(m, pipeline, "PIPELINE_CREATED", principal.id);
    return pipeline;
  }

  private async lockForChange(
    m: EntityManager,
    account: string,
    name: string,
    expectedVersion: number,
  ): Promise<PipelineEntity> {
    const current = await this.store.lockByName(m, account, name);
    if (!current) throw new NotFoundError(`No pipeline is named "${name}".`);
    if (current.version !== expectedVersion) {
      throw new ConflictError(
        `Pipeline "${name}" is at version ${current.version}, not ${expectedVersion}: it changed since you read it. Read it again and reapply your change.`,
        { currentVersion: current.version, expectedVersion },
      );
    }
    return current;
  }

  /** Writes a new version unless the document is unchanged (then nothing is written). */
  private async writeVersion(
    m: EntityManager,
    current: PipelineEntity,
    clear: PipelineDocument,
    principal: Principal,
    registry: ActionTypeRegistry,
  ): Promise<PipelineEntity> {
    this.changed();
    await this.references.check(m, clear, principal);
    const document = await this.vault.sealDocument(m, clear, current.document, registry);
    if (sameDocument(current.document, document)) return current;
    const now = this.clock();
    const version = current.version + 1;
    const updated = await this.store.updatePipeline(m, current, {
      version,
      document,
      updatedBy: principal.id,
      updatedAt: now,
      lastActivityAt: now,
    });
    await this.store.insertVersion(m, {
      pipelineId: current.id,
      version,
      document,
      createdBy: principal.id,
      createdAt: now,
    });
    await followPipelineSources(m, current.id);
    await this.announce(m, updated, "PIPELINE_UPDATED", principal.id);
    return updated;
  }

  private async insertActionType(
    m: EntityManager,
    definition: ActionTypeDefinition,
    principal: Principal,
  ): Promise<void> {
    await advisoryLock(m, ACTION_TYPE_LOCK);
    const { category, provider, version } = definition.id;
    if (await this.store.customActionTypeExists(m, { category, provider, version })) {
      throw new ConflictError(`The custom action type ${describe(definition.id)} already exists.`);
    }
    const count = await this.store.customActionTypeCount(m);
    if (count >= MAX_CUSTOM_ACTION_TYPES) {
      throw new LimitExceededError(
        `There are already ${count} custom action types, the limit is ${MAX_CUSTOM_ACTION_TYPES}.`,
      );
    }
    await this.store.insertCustomActionType(m, {
      category,
      provider,
      version,
      definition,
      createdBy: principal.id,
      createdAt: this.clock(),
    });
  }
}

function describe(id: Omit<ActionTypeId, "owner">): string {
  return `${id.category}/Custom/${id.provider}@${id.version}`;
}

function uniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error.driverError as { code?: string } | undefined)?.code === "23505"
  );
}

function sameDocument(a: PipelineDocument, b: PipelineDocument): boolean {
  return isDeepStrictEqual(a, b);
}
