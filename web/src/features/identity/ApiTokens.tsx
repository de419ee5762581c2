"use client";

import { useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "urql";
import { Field } from "@/features/editor/Field";
import { saveFailure } from "@/features/editor/queries";
import type { Issue } from "@/features/editor/draft";
import { formatTime } from "@/components/time";
import { API_TOKENS, CREATE_API_TOKEN, MAY_I, REVOKE_API_TOKEN } from "./queries";

/** A token just made: its secret, shown this once. */
interface Created {
  description: string;
  secret: string;
}

/**
 * The caller's own API tokens: listed with their last use (never a secret), created (the secret
 * shown once, with a copy button) and revoked. Managing them needs sluice:ManageIdentity on the
 * caller itself; without it the controls are disabled and say so, and no list is asked for.
 */
export function ApiTokens({ principal, self }: { principal: string; self: string }) {
  const [{ data: may }] = useQuery({
    query: MAY_I,
    variables: { action: "sluice:ManageIdentity", resource: self },
  });
  const allowed = may?.whoAmI.allowed;
  const [{ data, error }, refetch] = useQuery({
    query: API_TOKENS,
    variables: { principal },
    pause: allowed !== true,
  });
  const [creating, create] = useMutation(CREATE_API_TOKEN);
  const [, revoke] = useMutation(REVOKE_API_TOKEN);
  const [issues, setIssues] = useState<Map<string, Issue[]>>(new Map());
  const [created, setCreated] = useState<Created | null>(null);
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | null>(null);
  const secretRef = useRef<HTMLInputElement>(null);

  const reason = `${principal} is not allowed sluice:ManageIdentity on ${self}`;
  const locked = allowed !== true;
  // Until the answer comes the controls wait; refused, they say why.
  const disabled: { disabled?: boolean; title?: string; "aria-describedby"?: string } = locked
    ? {
        disabled: true,
        title: allowed === false ? reason : undefined,
        "aria-describedby": allowed === false ? "tokens-read-only" : undefined,
      }
    : {};

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const fields = new FormData(form);
    const description = String(fields.get("description") ?? "").trim();
    const expires = String(fields.get("expiresAt") ?? "");
    // A date: the token works until the end of that day, local time.
    const expiresAt = expires ? new Date(`${expires}T23:59:59`).toISOString() : null;
    const result = await create({ principal, description, expiresAt });
    if (result.error || !result.data) {
      const failure = saveFailure(result.error!);
      const byField = new Map<string, Issue[]>();
      for (const issue of failure.issues) {
        const field = issue.path.split(/[.[]/)[0] ?? "";
        byField.set(field, [...(byField.get(field) ?? []), issue]);
      }
      if (failure.issues.length === 0) byField.set("", [{ path: "", message: failure.message }]);
      setIssues(byField);
      return;
    }
    setIssues(new Map());
    setCreated({ description, secret: result.data.createApiTokenV2.secret });
    setNotice(null);
    form.reset();
    refetch({ requestPolicy: "network-only" });
  };

  const copy = async () => {
    if (!created) return;
    try {
      await navigator.clipboard.writeText(created.secret);
      setNotice({ text: "The secret is on the clipboard." });
    } catch {
      // No clipboard access (an insecure origin, or refused): select it for the user to copy.
      secretRef.current?.select();
      setNotice({ text: "Copy the selected secret with Ctrl+C (the clipboard is not available here)." });
    }
  };

  const tokens = data?.apiTokensV2.nodes ?? [];
  return (
    <section aria-labelledby="tokens-heading" className="spaced">
      <h2 id="tokens-heading">Your API tokens</h2>
      <p className="muted small">
        For the CLI (<code>SLUICE_TOKEN</code>) and scripts: a token acts as you, with your policies. Only its
        SHA-256 digest is stored; its secret is shown once, when it is made.
      </p>
      {allowed === false ? (
        <p id="tokens-read-only" className="muted">
          You cannot list, create or revoke your API tokens: {reason}. An administrator can.
        </p>
      ) : null}
      <p role="status" className={notice?.error ? "error" : "notice"}>
        {notice?.text}
      </p>
      {created ? (
        <div className="secret" data-testid="new-token">
          <label htmlFor="new-token-secret">
            Secret of “{created.description}”: copy it now, it is not shown again
          </label>
          <div className="field-inline">
            <input
              id="new-token-secret"
              ref={secretRef}
              type="text"
              readOnly
              value={created.secret}
              spellCheck={false}
              onFocus={(e) => e.currentTarget.select()}
            />
            <button type="button" onClick={() => void copy()}>
              Copy
            </button>
            <button type="button" onClick={() => setCreated(null)}>
              Done
            </button>
          </div>
        </div>
      ) : null}
      <form onSubmit={(e) => void submit(e)} aria-label="New API token" className="field-row">
        <Field path="token.description" label="Description" issues={issues.get("description")}>
          {(control) => (
            <input {...control} name="description" type="text" autoComplete="off" required {...disabled} />
          )}
        </Field>
        <Field
          path="token.expiresAt"
          label="Expires (optional)"
          hint="The end of that day; empty: never."
          issues={issues.get("expiresAt")}
        >
          {(control) => <input {...control} name="expiresAt" type="date" {...disabled} />}
        </Field>
        <div className="buttons">
          <button type="submit" className="primary" {...disabled} disabled={locked || creating.fetching}>
            Create token
          </button>
        </div>
      </form>
      {issues.get("")?.map((issue, i) => (
        <p key={i} role="alert" className="error">
          {issue.message}
        </p>
      ))}
      {error ? (
        <p role="alert" className="error">
          {error.message}
        </p>
      ) : null}
      {allowed !== true ? null : tokens.length === 0 ? (
        <p className="muted">You have no API token yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">API tokens of {principal}</caption>
            <thead>
              <tr>
                <th scope="col">Description</th>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">Expires</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id} data-token={t.description} data-revoked={t.revokedAt ? "true" : "false"}>
                  <td>
                    {t.description}
                    {t.roleSession ? <div className="muted small">{t.roleSession}</div> : null}
                  </td>
                  <td>
                    <time dateTime={t.createdAt}>{formatTime(t.createdAt)}</time>
                    <div className="muted small">by {t.createdBy}</div>
                  </td>
                  <td>{t.lastUsedAt ? formatTime(t.lastUsedAt) : <span className="muted">never</span>}</td>
                  <td>{t.expiresAt ? formatTime(t.expiresAt) : <span className="muted">never</span>}</td>
                  <td>
                    {t.revokedAt ? (
                      <span className="muted small">
                        Revoked {formatTime(t.revokedAt)}
                        {t.revokedBy ? ` by ${t.revokedBy}` : ""}
                      </span>
                    ) : (
                      <button
                        type="button"
                        className="danger"
                        onClick={async () => {
                          const result = await revoke({ id: t.id });
                          setNotice(
                            result.error
                              ? { text: saveFailure(result.error).message, error: true }
                              : { text: `Token “${t.description}” revoked.` },
                          );
                          refetch({ requestPolicy: "network-only" });
                        }}
                      >
                        Revoke<span className="visually-hidden"> token {t.description}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
