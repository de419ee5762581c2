"use client";

import Link from "next/link";
import { useState } from "react";
import { useQuery } from "urql";
import { formatTime } from "@/components/time";
import type { IdentityWhoAmIQuery } from "@/gql/graphql";
import { COMMON_PERMISSIONS, permissionResources, PIPELINE_NAME } from "./permissions";
import { EFFECTIVE_PERMISSIONS, PIPELINE_NAMES, WHO_AM_I } from "./queries";
import { ApiTokens } from "./ApiTokens";

type Caller = IdentityWhoAmIQuery["whoAmI"];

/**
 * /me: who the caller is (principal, account, the account it acts in, an assumed role, groups and
 * the policies that apply, with where each is attached), what it may do (a table of common actions,
 * each decided by the server's checker through whoAmI.allowed), and its own API tokens.
 */
export function MeView() {
  const [{ data, error }] = useQuery({ query: WHO_AM_I });
  if (error && !data)
    return (
      <p role="alert" className="error">
        {error.message}
      </p>
    );
  if (!data) return <p className="muted">Loading…</p>;
  const me = data.whoAmI;
  // Tokens belong to a user or service account acting as itself (a role session has its own).
  const ownsTokens = (me.kind === "user" || me.kind === "service-account") && !me.assumedRole && me.srn;
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Who am I</h1>
          <p className="muted small">
            What the server knows of you, and what it lets you do. Administrators manage everyone on{" "}
            <Link href="/identity">Identity</Link>.
          </p>
        </div>
      </div>
      <dl className="pairs">
        <div>
          <dt>Principal</dt>
          <dd>
            <code data-testid="principal">{me.principal}</code>
            {me.srn ? <span className="muted small"> ({me.srn})</span> : null}
          </dd>
        </div>
        <div>
          <dt>Account</dt>
          <dd>{me.account}</dd>
        </div>
        <div>
          <dt>Acting in</dt>
          <dd>{me.actingAccount}</dd>
        </div>
        <div>
          <dt>Assumed role</dt>
          <dd>
            {me.assumedRole ? (
              <>
                <code>{me.assumedRole.srn}</code> (session {me.assumedRole.sessionName}, until{" "}
                {formatTime(me.assumedRole.expiresAt)})
              </>
            ) : (
              <span className="muted">none</span>
            )}
          </dd>
        </div>
        <div>
          <dt>Groups</dt>
          <dd>{me.groups.length > 0 ? me.groups.join(", ") : <span className="muted">none</span>}</dd>
        </div>
      </dl>

      <section aria-labelledby="policies-heading" className="spaced">
        <h2 id="policies-heading">Policies that apply to you</h2>
        {me.policies.length === 0 ? (
          <p className="muted">No policy is attached to you or your groups: every request is refused.</p>
        ) : (
          <ul>
            {me.policies.map((p) => (
              <li key={`${p.attachedTo}:${p.name}`} data-policy={p.name}>
                <strong>{p.name}</strong> <span className="muted small">attached to {p.attachedTo}</span>
              </li>
            ))}
          </ul>
        )}
      </section>

      <Permissions me={me} />

      {ownsTokens ? (
        <ApiTokens principal={me.principal} self={me.srn!} />
      ) : (
        <section aria-labelledby="tokens-heading" className="spaced">
          <h2 id="tokens-heading">API tokens</h2>
          <p className="muted">
            {me.assumedRole
              ? "A role session has no API tokens of its own."
              : `${me.principal} holds no API tokens.`}
          </p>
        </section>
      )}
    </>
  );
}

/** The effective-permission table: common actions on one pipeline (chosen here) and elsewhere. */
function Permissions({ me }: { me: Caller }) {
  const [{ data: names }] = useQuery({ query: PIPELINE_NAMES });
  const listed = names?.pipelines.nodes.map((p) => p.name) ?? [];
  const [typed, setTyped] = useState<string | null>(null);
  const pipeline = typed ?? listed[0] ?? "web";
  const valid = PIPELINE_NAME.test(pipeline);
  const resources = permissionResources({
    pipeline: valid ? pipeline : "web",
    actingAccount: me.actingAccount,
    self: me.srn ?? `srn:sluice:${me.account}:user/${me.name}`,
  });
  const [{ data, error, fetching }] = useQuery({
    query: EFFECTIVE_PERMISSIONS,
    variables: resources,
    pause: !valid,
  });
  const answers = data?.whoAmI;
  return (
    <section aria-labelledby="permissions-heading" className="spaced">
      <div className="page-head">
        <h2 id="permissions-heading">Effective permissions</h2>
        <div className="field-inline">
          <label htmlFor="permissions-pipeline">Pipeline</label>
          <input
            id="permissions-pipeline"
            type="text"
            list="permissions-pipelines"
            autoComplete="off"
            spellCheck={false}
            value={pipeline}
            aria-invalid={valid ? undefined : true}
            aria-describedby="permissions-hint"
            onChange={(e) => setTyped(e.target.value.trim())}
          />
          <datalist id="permissions-pipelines">
            {listed.map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
        </div>
      </div>
      <p id="permissions-hint" className="muted small">
        {valid
          ? "Decided by the server's checker for you, now: an explicit Deny beats every Allow; nothing allowing it is a denial. Stage- and action-scoped statements may allow more on one stage."
          : "A pipeline name has letters, digits and . @ _ - only."}
      </p>
      {error ? (
        <p role="alert" className="error">
          {error.message}
        </p>
      ) : null}
      <div className="table-wrap">
        <table className="table" aria-busy={fetching}>
          <caption className="visually-hidden">What {me.principal} may do</caption>
          <thead>
            <tr>
              <th scope="col">What</th>
              <th scope="col">Action</th>
              <th scope="col">Resource</th>
              <th scope="col">You may</th>
            </tr>
          </thead>
          <tbody>
            {COMMON_PERMISSIONS.map((row) => {
              const allowed = answers ? answers[row.key] : undefined;
              return (
                <tr
                  key={row.key}
                  data-permission={row.action}
                  data-allowed={allowed === undefined ? undefined : String(allowed)}
                >
                  <td>{row.what}</td>
                  <td>
                    <code className="small">{row.action}</code>
                  </td>
                  <td>
                    <code className="small">{resources[row.resource]}</code>
                  </td>
                  <td>
                    {allowed === undefined ? (
                      <span className="muted">…</span>
                    ) : allowed ? (
                      <span className="status tone-ok">Allowed</span>
                    ) : (
                      <span className="status tone-bad">Denied</span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
