"use client";

import { useEffect, useState } from "react";
import { useMutation, useQuery } from "urql";
import { FormDialog } from "@/components/Dialog";
import { Field, IssueList } from "@/features/editor/Field";
import { saveFailure } from "@/features/editor/queries";
import type { Issue } from "@/features/editor/draft";
import { CREATE_GROUP, CREATE_SERVICE_ACCOUNT, CREATE_USER, MAY_I } from "./queries";

export type PrincipalKind = "user" | "group" | "service-account";

const LABELS: Record<PrincipalKind, string> = {
  user: "user",
  group: "group",
  "service-account": "service account",
};

/** Identity names (the server's rule): 1 to 64 letters, digits and _.@+=,- */
export const IDENTITY_NAME = /^[A-Za-z0-9_.@+=,-]{1,64}$/;

/**
 * Whether the caller may manage `<kind>/<name>` in its acting account, asked of the server's
 * checker (whoAmI.allowed) once typing pauses; undefined until it answers or while the name is
 * not one.
 */
function useMayManage(kind: PrincipalKind, name: string, account: string): boolean | undefined {
  const [settled, setSettled] = useState(name);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(name), 250);
    return () => clearTimeout(timer);
  }, [name]);
  const valid = IDENTITY_NAME.test(settled);
  const [{ data }] = useQuery({
    query: MAY_I,
    variables: { action: "sluice:ManageIdentity", resource: `srn:sluice:${account}:${kind}/${settled}` },
    pause: !valid,
  });
  return valid && settled === name ? data?.whoAmI.allowed : undefined;
}

/** Problems by field: `name`, `email`, … (the server's paths are the arguments' names). */
function byField(issues: Issue[]): Map<string, Issue[]> {
  const map = new Map<string, Issue[]>();
  for (const issue of issues) {
    const field = issue.path.split(/[.[]/)[0] ?? "";
    map.set(field, [...(map.get(field) ?? []), issue]);
  }
  return map;
}

/**
 * A new user, group or service account. As the name is typed the server's checker is asked
 * whether the caller may create it; when it may not, Create is disabled and the reason shown.
 */
export function CreatePrincipalForm(props: {
  kind: PrincipalKind;
  principal: string;
  account: string;
  onClose(): void;
  onDone(message: string): void;
}) {
  const { kind } = props;
  const [name, setName] = useState("");
  const [issues, setIssues] = useState<Map<string, Issue[]>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [user, createUser] = useMutation(CREATE_USER);
  const [group, createGroup] = useMutation(CREATE_GROUP);
  const [account, createServiceAccount] = useMutation(CREATE_SERVICE_ACCOUNT);
  const busy = user.fetching || group.fetching || account.fetching;
  const may = useMayManage(kind, name.trim(), props.account);
  const reason = `${props.principal} is not allowed sluice:ManageIdentity on srn:sluice:${props.account}:${kind}/${name.trim()}`;
  const label = LABELS[kind];

  const submit = async (data: FormData) => {
    const value = (field: string) => {
      const v = String(data.get(field) ?? "").trim();
      return v === "" ? null : v;
    };
    const trimmed = name.trim();
    const result =
      kind === "user"
        ? await createUser({ name: trimmed, displayName: value("displayName"), email: value("email") })
        : kind === "group"
          ? await createGroup({ name: trimmed })
          : await createServiceAccount({ name: trimmed, description: value("description") });
    if (result.error) {
      const failure = saveFailure(result.error);
      setIssues(byField(failure.issues));
      setError(
        failure.issues.length > 0 ? `The ${label} was not created: see the fields marked.` : failure.message,
      );
      return;
    }
    props.onDone(`${label.charAt(0).toUpperCase()}${label.slice(1)} ${trimmed} created.`);
  };

  return (
    <FormDialog
      open
      title={`New ${label}`}
      busy={busy}
      error={error}
      onClose={props.onClose}
      onSubmit={(data) => void submit(data)}
    >
      <Field
        path={`${kind}.name`}
        label="Name"
        hint="1 to 64 letters, digits and _.@+=,-"
        issues={issues.get("name")}
      >
        {(control) => (
          <input
            {...control}
            name="name"
            type="text"
            autoComplete="off"
            spellCheck={false}
            required
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        )}
      </Field>
      {kind === "user" ? (
        <>
          <Field path="user.displayName" label="Display name (optional)" issues={issues.get("displayName")}>
            {(control) => <input {...control} name="displayName" type="text" autoComplete="off" />}
          </Field>
          <Field path="user.email" label="E-mail (optional)" issues={issues.get("email")}>
            {(control) => <input {...control} name="email" type="email" autoComplete="off" />}
          </Field>
        </>
      ) : null}
      {kind === "service-account" ? (
        <Field
          path="service-account.description"
          label="Description (optional)"
          issues={issues.get("description")}
        >
          {(control) => <input {...control} name="description" type="text" autoComplete="off" />}
        </Field>
      ) : null}
      {may === false ? (
        <p id={`create-${kind}-refused`} className="error">
          You cannot create this {label}: {reason}.
        </p>
      ) : null}
      <IssueList issues={issues.get("")} />
      <div className="buttons">
        <button
          type="submit"
          className="primary"
          disabled={busy || may === false}
          title={may === false ? reason : undefined}
          aria-describedby={may === false ? `create-${kind}-refused` : undefined}
        >
          Create {label}
        </button>
        <button type="button" onClick={props.onClose}>
          Cancel
        </button>
      </div>
    </FormDialog>
  );
}
