"use client";

import { useCallback, useEffect, useState } from "react";
import { useClient, useQuery } from "urql";
import { emptyDraft, toDraft, type ActionTypeInfo, type Draft } from "./draft";
import { ImportPanel } from "./ImportPanel";
import { PipelineEditor } from "./PipelineEditor";
import { ACTION_TYPES, PIPELINE_DOCUMENT } from "./queries";

interface Loaded {
  draft: Draft;
  version: number;
  /** Grows with each load: a reload starts the editor afresh. */
  generation: number;
}

/** The stored document of a pipeline, fetched fresh (never from the cache: the version must be current). */
function usePipelineDocument(name: string | undefined) {
  const client = useClient();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(async () => {
    if (!name) return;
    const result = await client
      .query(PIPELINE_DOCUMENT, { name }, { requestPolicy: "network-only" })
      .toPromise();
    if (result.error) return setError(result.error.message);
    const pipeline = result.data?.pipeline;
    if (!pipeline) return setError(`There is no pipeline named “${name}”.`);
    try {
      const draft = toDraft(pipeline.document);
      setError(null);
      setLoaded((previous) => ({
        draft,
        version: pipeline.version,
        generation: (previous?.generation ?? 0) + 1,
      }));
    } catch (e) {
      setError((e as Error).message);
    }
  }, [client, name]);
  useEffect(() => {
    void load();
  }, [load]);
  return { loaded, error, reload: load };
}

function useActionTypes() {
  const [{ data, error }] = useQuery({ query: ACTION_TYPES });
  return {
    types: data?.listActionTypes.nodes as ActionTypeInfo[] | undefined,
    error: error?.message ?? null,
  };
}

function Problem({ text }: { text: string }) {
  return (
    <p role="alert" className="error">
      {text}
    </p>
  );
}

/** /pipelines/[name]/edit: the editor on the pipeline's current version; saves with updatePipelineV2. */
export function EditPipeline({ name }: { name: string }) {
  const { types, error: typesError } = useActionTypes();
  const { loaded, error, reload } = usePipelineDocument(name);
  if (error || typesError) return <Problem text={(error ?? typesError)!} />;
  if (!loaded || !types) return <p className="muted">Loading…</p>;
  return (
    <PipelineEditor
      key={loaded.generation}
      mode={{ kind: "edit", name, version: loaded.version, onReload: () => void reload() }}
      initial={loaded.draft}
      types={types}
    />
  );
}

/**
 * /new: the editor on an empty pipeline, or on a copy of `from` under a new name;
 * saves with createPipelineV2. Below it, importing a pasted or uploaded document.
 */
export function NewPipeline({ from }: { from?: string }) {
  const { types, error: typesError } = useActionTypes();
  const { loaded, error } = usePipelineDocument(from);
  if (error || typesError) return <Problem text={(error ?? typesError)!} />;
  if (!types || (from && !loaded)) return <p className="muted">Loading…</p>;
  const initial = loaded ? { ...loaded.draft, name: `${loaded.draft.name}-copy` } : emptyDraft();
  return (
    <>
      <PipelineEditor mode={{ kind: "create", copiedFrom: from }} initial={initial} types={types} />
      {from ? null : <ImportPanel />}
    </>
  );
}
