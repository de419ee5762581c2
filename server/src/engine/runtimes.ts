import type { EntityManager } from "typeorm";
import {
  decodeCoordination,
  decodeExecution,
  joinRuntime,
  storedCoordination,
  type StoredCoordination,
} from "../domain/execution/stored";
import { emptyRuntime, type PipelineRuntime } from "../domain/execution";
import type { PipelineDocument } from "../domain/pipeline/document";
import type { PipelineEntity } from "../persistence/entities/pipeline.entity";
import type { ExecutionStore, LockedAgent, StoredRuntimeRows } from "../persistence/execution-store";

/** Pipelines whose runtime a server copy keeps in memory, and pinned documents it keeps. */
const RUNTIMES_KEPT = 2_000;
const DOCUMENTS_KEPT = 4_000;

/** A map that forgets its least recently used entry when full. */
class Recent<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly capacity: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.entries.delete(key);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, value);
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

/** A runtime as the engine holds it: with the revision of the row it was read from or written to. */
export interface HeldRuntime {
  runtime: PipelineRuntime;
  revision: number;
}

/**
 * The engine's side of the stored runtime (domain/execution/stored.ts): reads a pipeline's
 * coordination record and execution records into the runtime `decide` works on, and writes back
 * only what a decision changed.
 *
 * Each server copy keeps the runtimes it last read or wrote, with their row's revision. Locking the
 * row reads the revision; when it is the one kept, the execution records are not read again (one
 * small row instead of every execution). Another copy's decision raises the revision, so a stale
 * copy is never used. Pinned documents never change and are kept by pipeline and version.
 */
export class Runtimes {
  private readonly held = new Recent<HeldRuntime>(RUNTIMES_KEPT);
  private readonly documents = new Recent<PipelineDocument>(DOCUMENTS_KEPT);

  constructor(private readonly store: ExecutionStore) {}

  /** The pipeline and its runtime, locked for the transaction: one statement when nothing is missing. */
  async lock(
    m: EntityManager,
    pipelineId: string,
    loadPipeline: () => Promise<PipelineEntity | null>,
    agentIds: readonly string[] = [],
  ) {
    const kept = this.held.get(pipelineId);
    const knownVersion = this.currentVersionKept(pipelineId);
    const locked = await this.store.lockPipelineRuntime(
      m,
      pipelineId,
      {
        revision: kept?.revision ?? null,
        version: knownVersion,
        heldVersions: this.heldVersions(pipelineId, kept),
      },
      agentIds,
    );
    if (locked) {
      const pipeline = locked.pipeline;
      if (pipeline.document === null)
        pipeline.document = this.documents.get(docKey(pipelineId, pipeline.version))!;
      else this.keepDocument(pipelineId, pipeline.version, pipeline.document);
      this.currentVersions.set(pipelineId, pipeline.version);
      const held = await this.assemble(m, pipelineId, locked.runtime, kept);
      return { pipeline, agents: locked.agents, ...held };
    }
    // The pipeline's first event: its runtime row does not exist yet.
    const pipeline = await loadPipeline();
    if (!pipeline) return null;
    const rows = await this.store.lockNewRuntime(
      m,
      pipelineId,
      () => storedCoordination(emptyRuntime(pipeline.name)),
      this.heldVersions(pipelineId, undefined),
    );
    // A result's sender is only asked about on a pipeline that has run something: never here.
    return {
      pipeline,
      agents: new Map<string, LockedAgent>(),
      ...(await this.assemble(m, pipelineId, rows, undefined)),
    };
  }

  /** The runtime as committed last (null: the pipeline has had no event), without a lock. */
  async read(pipelineId: string): Promise<PipelineRuntime | null> {
    const kept = this.held.get(pipelineId);
    const rows = await this.store.readRuntime(
      pipelineId,
      kept?.revision ?? null,
      this.heldVersions(pipelineId, kept),
    );
    if (!rows) return null;
    return (await this.assemble(undefined, pipelineId, rows, kept)).runtime;
  }

  /** After the commit: the runtime this copy wrote is the row's next revision. */
  committed(pipelineId: string, revision: number, runtime: PipelineRuntime): void {
    this.held.set(pipelineId, { revision, runtime });
  }

  /** The pipeline is gone (or its rows were changed outside the engine): read it again next time. */
  forget(pipelineId: string): void {
    this.held.delete(pipelineId);
    this.currentVersions.delete(pipelineId);
  }

  private readonly currentVersions = new Recent<number>(RUNTIMES_KEPT);

  /** The pipeline's version last seen, when its document is kept too. */
  private currentVersionKept(pipelineId: string): number | null {
    const version = this.currentVersions.get(pipelineId);
    if (version === undefined || !this.documents.get(docKey(pipelineId, version))) return null;
    return version;
  }

  /**
   * Versions of the pipeline whose documents this copy holds, among those its executions are likely
   * to have pinned (the held runtime's and the current one): the read of the records leaves them out.
   */
  private heldVersions(pipelineId: string, kept: HeldRuntime | undefined): number[] {
    const candidates = new Set(Object.values(kept?.runtime.executions ?? {}).map((e) => e.pipelineVersion));
    const current = this.currentVersions.get(pipelineId);
    if (current !== undefined) candidates.add(current);
    return [...candidates].filter((version) => this.documents.get(docKey(pipelineId, version)) !== undefined);
  }

  private keepDocument(pipelineId: string, version: number, document: PipelineDocument): void {
    this.documents.set(docKey(pipelineId, version), document);
  }

  private async assemble(
    m: EntityManager | undefined,
    pipelineId: string,
    rows: StoredRuntimeRows,
    kept: HeldRuntime | undefined,
  ): Promise<HeldRuntime> {
    if (rows.executions === null && kept && kept.revision === rows.revision) return kept;
    const coordination: StoredCoordination = decodeCoordination(rows.coordination);
    const records = (rows.executions ?? []).map(decodeExecution);
    for (const [version, document] of rows.documents)
      this.keepDocument(pipelineId, version, document as PipelineDocument);
    const missing = [...new Set(records.map((r) => r.pipelineVersion))].filter(
      (version) => !this.documents.get(docKey(pipelineId, version)),
    );
    if (missing.length > 0) {
      const found = await this.store.versionDocuments(pipelineId, missing, m);
      for (const [version, document] of found)
        this.keepDocument(pipelineId, version, document as PipelineDocument);
    }
    const documentOf = (version: number): PipelineDocument => {
      const document = this.documents.get(docKey(pipelineId, version));
      if (!document) throw new Error(`Version ${version} of pipeline ${pipelineId} is missing.`);
      return document;
    };
    const held = { runtime: joinRuntime(coordination, records, documentOf), revision: rows.revision };
    this.held.set(pipelineId, held);
    return held;
  }
}

function docKey(pipelineId: string, version: number): string {
  return `${pipelineId}:${version}`;
}
