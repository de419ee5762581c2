"use client";

import { useEffect, useRef, useState } from "react";
import { useClient, useMutation } from "urql";
import { FormDialog } from "@/components/Dialog";
import { Field, IssueList } from "@/features/editor/Field";
import { saveFailure } from "@/features/editor/queries";
import type { Issue } from "@/features/editor/draft";
import { PUT_POLICY, VALIDATE_POLICY } from "./queries";

/** How long typing pauses before the document is checked by the server. */
const CHECK_AFTER_MS = 300;

export const EXAMPLE_POLICY = `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "ReadWeb",
      "Effect": "Allow",
      "Action": ["sluice:Get*", "sluice:List*"],
      "Resource": ["srn:sluice:default:pipeline/web"]
    }
  ]
}`;

/**
 * The server's answer about one document (`key`: its compact JSON): the problems found (none:
 * valid), or why it could not be asked. An answer about another text than the one shown is stale.
 */
type Check = { key: string; problems: Issue[] } | { key: string; failed: string };

/** JSON.parse's complaint as a problem of the whole document, with the line and column when known. */
function syntaxProblem(text: string, error: unknown): Issue {
  const message = error instanceof Error ? error.message : String(error);
  const at = /position (\d+)/.exec(message);
  if (!at) return { path: "", message: `Not JSON: ${message}` };
  const before = text.slice(0, Number(at[1]));
  const line = before.split("\n").length;
  const column = before.length - before.lastIndexOf("\n");
  return { path: "", message: `Not JSON at line ${line}, column ${column}: ${message}` };
}

/**
 * Creates or replaces a customer policy. The document is checked as it is typed: JSON syntax here,
 * then, after a pause, the server's own rules (validatePolicy, the checks putPolicy makes), each
 * problem with its path in the document (`Statement[0].Action`). Saving shows the server's answer
 * at its fields too.
 */
export function PolicyEditor(props: {
  /** null: a new policy. */
  editing: { name: string; description: string | null; document: Record<string, unknown> } | null;
  onClose(): void;
  onDone(message: string): void;
}) {
  const { editing } = props;
  const client = useClient();
  const [text, setText] = useState(() =>
    editing ? JSON.stringify(editing.document, null, 2) : EXAMPLE_POLICY,
  );
  const [check, setCheck] = useState<Check | null>(null);
  const [issues, setIssues] = useState<Map<string, Issue[]>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [saving, putPolicy] = useMutation(PUT_POLICY);
  const asked = useRef(0);

  // JSON syntax is known at once; the server's rules after a pause in typing (the latest answer wins).
  let parsed: unknown = undefined;
  let syntax: Issue | null = null;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    syntax = syntaxProblem(text, e);
  }
  const parsedKey = syntax ? null : JSON.stringify(parsed);
  useEffect(() => {
    if (parsedKey === null) return;
    const ticket = ++asked.current;
    const timer = setTimeout(() => {
      void client
        .query(VALIDATE_POLICY, { document: JSON.parse(parsedKey) }, { requestPolicy: "network-only" })
        .toPromise()
        .then((result) => {
          if (ticket !== asked.current) return;
          setCheck(
            result.data
              ? { key: parsedKey, problems: result.data.validatePolicy.problems }
              : { key: parsedKey, failed: result.error ? saveFailure(result.error).message : "no answer" },
          );
        });
    }, CHECK_AFTER_MS);
    return () => clearTimeout(timer);
  }, [client, parsedKey]);

  const current = check && check.key === parsedKey ? check : null;
  const serverProblems = current && "problems" in current ? current.problems : [];
  const documentProblems: Issue[] = syntax
    ? [syntax]
    : serverProblems.map((p) => ({ path: p.path, message: p.path ? `${p.path}: ${p.message}` : p.message }));
  const saveProblems = issues.get("document") ?? [];
  const shown = [...documentProblems, ...(documentProblems.length === 0 ? saveProblems : [])];
  const status = syntax
    ? "The document is not JSON."
    : !current
      ? "Checking…"
      : "failed" in current
        ? `Could not check the document: ${current.failed}`
        : serverProblems.length > 0
          ? `${serverProblems.length} problem${serverProblems.length === 1 ? "" : "s"} in the document.`
          : "The document is valid.";

  const submit = async (data: FormData) => {
    const name = editing?.name ?? String(data.get("name") ?? "").trim();
    const description = String(data.get("description") ?? "").trim() || null;
    if (syntax || typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      setError("The policy was not saved: the document must be a JSON object.");
      return;
    }
    const result = await putPolicy({ name, description, document: parsed as Record<string, unknown> });
    if (result.error) {
      const failure = saveFailure(result.error);
      const byField = new Map<string, Issue[]>();
      for (const issue of failure.issues) {
        const field = issue.path.startsWith("document") ? "document" : (issue.path.split(/[.[]/)[0] ?? "");
        const path = issue.path.replace(/^document\.?/, "");
        byField.set(field, [
          ...(byField.get(field) ?? []),
          {
            path: issue.path,
            message: field === "document" && path ? `${path}: ${issue.message}` : issue.message,
          },
        ]);
      }
      setIssues(byField);
      setError(
        failure.issues.length > 0 ? "The policy was not saved: see the fields marked." : failure.message,
      );
      return;
    }
    props.onDone(`Policy ${name} ${editing ? "saved" : "created"}.`);
  };

  return (
    <FormDialog
      open
      title={editing ? `Edit policy ${editing.name}` : "New policy"}
      busy={saving.fetching}
      error={error}
      onClose={props.onClose}
      onSubmit={(data) => void submit(data)}
    >
      {editing ? null : (
        <Field
          path="policy.name"
          label="Name"
          hint="1 to 64 letters, digits and _.@+=,-"
          issues={issues.get("name")}
        >
          {(control) => (
            <input {...control} name="name" type="text" autoComplete="off" spellCheck={false} required />
          )}
        </Field>
      )}
      <Field path="policy.description" label="Description (optional)" issues={issues.get("description")}>
        {(control) => (
          <input {...control} name="description" type="text" defaultValue={editing?.description ?? ""} />
        )}
      </Field>
      <Field
        path="policy.document"
        label="Document (JSON)"
        hint={
          <>
            Statements with Effect, Action (or NotAction) and Resource (or NotResource), as docs/policies.md
            describes.{" "}
            <span data-testid="policy-check" aria-live="polite">
              {status}
            </span>
          </>
        }
        issues={shown}
      >
        {(control) => (
          <textarea
            {...control}
            name="document"
            className="code-input"
            rows={16}
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        )}
      </Field>
      <IssueList issues={issues.get("")} />
      <div className="buttons">
        <button type="submit" className="primary" disabled={saving.fetching}>
          {editing ? "Save policy" : "Create policy"}
        </button>
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </FormDialog>
  );
}
