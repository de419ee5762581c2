"use client";

import { useState } from "react";
import { useMutation } from "urql";
import { FormDialog } from "@/components/Dialog";
import { Field, IssueList } from "@/features/editor/Field";
import { saveFailure } from "@/features/editor/queries";
import type { Issue } from "@/features/editor/draft";
import { CREATE_ROLE } from "./queries";

/** A trust policy letting one principal assume the role: the caller's own SRN, to start from. */
function exampleTrust(self: string): string {
  return JSON.stringify(
    {
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "sluice:AssumeRole", Principal: { Sluice: [self] } }],
    },
    null,
    2,
  );
}

/**
 * A new role of the caller's account: its name, description, longest session and trust policy
 * (who may assume it, docs/policies.md). JSON syntax is checked here; the server's problems with the
 * trust policy show at the field with their paths. Policies are attached to it afterwards.
 */
export function RoleForm(props: { self: string; onClose(): void; onDone(message: string): void }) {
  const [text, setText] = useState(() => exampleTrust(props.self));
  const [issues, setIssues] = useState<Map<string, Issue[]>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [creating, createRole] = useMutation(CREATE_ROLE);
  let trust: unknown = null;
  let syntax: Issue | null = null;
  try {
    trust = JSON.parse(text);
  } catch (e) {
    syntax = { path: "", message: `Not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }

  const submit = async (data: FormData) => {
    const name = String(data.get("name") ?? "").trim();
    const description = String(data.get("description") ?? "").trim() || null;
    const seconds = String(data.get("maxSessionSeconds") ?? "").trim();
    if (syntax || typeof trust !== "object" || trust === null || Array.isArray(trust)) {
      setError("The role was not created: the trust policy must be a JSON object.");
      return;
    }
    const result = await createRole({
      name,
      description,
      maxSessionSeconds: seconds ? Number(seconds) : null,
      trustPolicy: trust as Record<string, unknown>,
    });
    if (result.error) {
      const failure = saveFailure(result.error);
      const byField = new Map<string, Issue[]>();
      for (const issue of failure.issues) {
        const field = issue.path.split(/[.[]/)[0] ?? "";
        const rest = issue.path.slice(field.length).replace(/^\./, "");
        const message = field === "trustPolicy" && rest ? `${rest}: ${issue.message}` : issue.message;
        byField.set(field, [...(byField.get(field) ?? []), { path: issue.path, message }]);
      }
      setIssues(byField);
      setError(
        failure.issues.length > 0 ? "The role was not created: see the fields marked." : failure.message,
      );
      return;
    }
    props.onDone(`Role ${name} created.`);
  };

  return (
    <FormDialog
      open
      title="New role"
      busy={creating.fetching}
      error={error}
      onClose={props.onClose}
      onSubmit={(data) => void submit(data)}
    >
      <Field
        path="role.name"
        label="Name"
        hint="1 to 64 letters, digits and _.@+=,-"
        issues={issues.get("name")}
      >
        {(control) => (
          <input {...control} name="name" type="text" autoComplete="off" spellCheck={false} required />
        )}
      </Field>
      <Field path="role.description" label="Description (optional)" issues={issues.get("description")}>
        {(control) => <input {...control} name="description" type="text" autoComplete="off" />}
      </Field>
      <Field
        path="role.maxSessionSeconds"
        label="Longest session in seconds (optional)"
        hint="60 to 43200; empty: 3600."
        issues={issues.get("maxSessionSeconds")}
      >
        {(control) => <input {...control} name="maxSessionSeconds" type="number" min={60} max={43200} />}
      </Field>
      <Field
        path="role.trustPolicy"
        label="Trust policy (JSON)"
        hint="Who may assume the role: Principal.Sluice lists SRNs of accounts' roots, users, groups or service accounts."
        issues={syntax ? [syntax] : issues.get("trustPolicy")}
      >
        {(control) => (
          <textarea
            {...control}
            name="trustPolicy"
            className="code-input"
            rows={12}
            spellCheck={false}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
        )}
      </Field>
      <IssueList issues={issues.get("")} />
      <div className="buttons">
        <button type="submit" className="primary" disabled={creating.fetching}>
          Create role
        </button>
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </FormDialog>
  );
}
