"use client";

import Link from "next/link";
import { useState } from "react";
import { useMutation } from "urql";
import { IMPORT_PIPELINE, saveFailure, type SaveFailure } from "./queries";

/**
 * Creates a pipeline from a pasted or uploaded document: Sluice's own, or the JSON
 * `aws codepipeline get-pipeline` prints (importPipelineV2 maps it and says how).
 */
export function ImportPanel() {
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<SaveFailure | null>(null);
  const [done, setDone] = useState<{
    name: string;
    warnings: Array<{ path: string; message: string }>;
  } | null>(null);
  const [state, importPipeline] = useMutation(IMPORT_PIPELINE);

  const submit = async () => {
    setDone(null);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      return setProblem({ code: null, message: `This is not JSON: ${(error as Error).message}`, issues: [] });
    }
    const result = await importPipeline({ document });
    if (result.error) return setProblem(saveFailure(result.error));
    setProblem(null);
    const payload = result.data!.importPipelineV2;
    setDone({ name: payload.pipeline.name, warnings: payload.warnings });
  };

  return (
    <section aria-labelledby="import-heading" className="import">
      <h2 id="import-heading">Or import a document</h2>
      <form
        noValidate
        aria-busy={state.fetching}
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label htmlFor="import-document">Pipeline document (Sluice or AWS CodePipeline JSON)</label>
        <textarea
          id="import-document"
          className="code-input"
          rows={10}
          spellCheck={false}
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        <div className="buttons">
          <label htmlFor="import-file" className="check">
            Or upload a file
          </label>
          <input
            id="import-file"
            type="file"
            accept=".json,application/json"
            onChange={async (e) => {
              const file = e.target.files?.[0];
              if (file) setText(await file.text());
            }}
          />
        </div>
        <div className="buttons">
          <button type="submit" className="primary" disabled={state.fetching || !text.trim()}>
            Import
          </button>
        </div>
      </form>
      {problem ? (
        <div role="alert" className="error">
          <p>{problem.message}</p>
          {problem.issues.length > 0 ? (
            <ul>
              {problem.issues.map((issue, i) => (
                <li key={i}>
                  <code>{issue.path || "document"}</code>: {issue.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {done ? (
        <div role="status" className="notice">
          <p>
            Imported <Link href={`/pipelines/${encodeURIComponent(done.name)}`}>{done.name}</Link>
            {done.warnings.length > 0
              ? `, with ${done.warnings.length} mapping${done.warnings.length > 1 ? "s" : ""}:`
              : "."}
          </p>
          {done.warnings.length > 0 ? (
            <ul>
              {done.warnings.map((w, i) => (
                <li key={i}>
                  <code>{w.path}</code>: {w.message}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
