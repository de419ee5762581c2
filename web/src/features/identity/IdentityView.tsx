"use client";

import Link from "next/link";
import { useRef, useState, type FormEvent, type ReactNode } from "react";
import { useMutation, useQuery } from "urql";
import { formatTime } from "@/components/time";
import { saveFailure } from "@/features/editor/queries";
import type { IdentitiesQuery } from "@/gql/graphql";
import { CreatePrincipalForm, type PrincipalKind } from "./CreateForms";
import { PolicyEditor } from "./PolicyEditor";
import { RoleForm } from "./RoleForm";
import {
  ADD_TO_GROUP,
  ATTACH_POLICY,
  DELETE_POLICY,
  DELETE_ROLE,
  DETACH_POLICY,
  IDENTITIES,
  REMOVE_FROM_GROUP,
  WHO_AM_I,
} from "./queries";

type Policy = IdentitiesQuery["policiesV2"]["nodes"][number];

/** Which form is open; `key` mounts a fresh one each time. */
type Editing =
  | { form: "principal"; kind: PrincipalKind; key: number }
  | { form: "policy"; policy: Policy | null; key: number }
  | { form: "role"; key: number }
  | null;

/**
 * The principals the Allow statements of a trust policy name, for the roles list: as stored
 * (`Principal` a list of SRNs) or as written (`Principal.Sluice`).
 */
function trustedPrincipals(trust: Record<string, unknown>): string[] {
  const statements = Array.isArray(trust.Statement) ? trust.Statement : [trust.Statement];
  return statements.flatMap((statement) => {
    const st = statement as { Effect?: unknown; Principal?: unknown } | null;
    if (!st || st.Effect !== "Allow") return [];
    const principal = st.Principal;
    const named =
      typeof principal === "object" && principal !== null && !Array.isArray(principal)
        ? (principal as { Sluice?: unknown }).Sluice
        : principal;
    return Array.isArray(named) ? named.map(String) : typeof named === "string" ? [named] : [];
  });
}

const MANAGED_REASON = "Managed policies come with Sluice and cannot be changed or deleted.";

/**
 * /identity: the users, groups (with their members), service accounts, roles and policies of the account
 * the caller acts in, with forms to create them, a policy editor that checks the document as it is
 * typed, group membership, and attaching and detaching policies. Every list holds what the caller
 * may manage (sluice:ManageIdentity on each); a caller allowed it nowhere gets the page with its
 * controls disabled and the reason, as the server's checker gave it.
 */
export function IdentityView() {
  const [{ data: who }] = useQuery({ query: WHO_AM_I });
  const [{ data, error }, refetch] = useQuery({ query: IDENTITIES });
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | null>(null);
  const [editing, setEditing] = useState<Editing>(null);
  const opened = useRef(0);
  const [, deletePolicy] = useMutation(DELETE_POLICY);
  const [, deleteRole] = useMutation(DELETE_ROLE);
  const [, attach] = useMutation(ATTACH_POLICY);
  const [, detach] = useMutation(DETACH_POLICY);
  const [, addToGroup] = useMutation(ADD_TO_GROUP);
  const [, removeFromGroup] = useMutation(REMOVE_FROM_GROUP);

  const me = who?.whoAmI;
  if (!me || (!data && !error)) return <p className="muted">Loading…</p>;
  const refused = error ? saveFailure(error) : null;
  if (refused && refused.code !== "FORBIDDEN")
    return (
      <p role="alert" className="error">
        {refused.message}
      </p>
    );
  const account = me.actingAccount;
  const reason = `${me.principal} is not allowed sluice:ManageIdentity in account ${account}`;
  const readOnly = refused ? { disabled: true, title: reason, "aria-describedby": "identity-read-only" } : {};

  const after = (result: { error?: Parameters<typeof saveFailure>[0] }, text: string) => {
    setNotice(result.error ? { text: saveFailure(result.error).message, error: true } : { text });
    refetch({ requestPolicy: "network-only" });
  };
  const open = (
    next:
      | { form: "principal"; kind: PrincipalKind }
      | { form: "policy"; policy: Policy | null }
      | { form: "role" },
  ) => setEditing({ ...next, key: ++opened.current } as Editing);
  const done = (text: string) => {
    setEditing(null);
    setNotice({ text });
    refetch({ requestPolicy: "network-only" });
  };

  const users = data?.usersV2.nodes ?? [];
  const groups = (data?.groupsV2.nodes ?? []).map((g) => ({
    ...g,
    members: g.membersV2.nodes.map((m) => m.userName),
  }));
  const serviceAccounts = data?.serviceAccountsV2.nodes ?? [];
  const policies = data?.policiesV2.nodes ?? [];
  const roles = data?.rolesV2.nodes ?? [];
  const attachments = data?.policyAttachmentsV2.nodes ?? [];
  const attachedTo = (principal: string) => attachments.filter((a) => a.principal === principal);
  const groupsOf = (user: string) => groups.filter((g) => g.members.includes(user)).map((g) => g.name);

  /** The policies attached to a principal, each with its Detach button. */
  const attached = (principal: string) => {
    const list = attachedTo(principal);
    if (list.length === 0) return <span className="muted small">none</span>;
    return (
      <ul className="target-list">
        {list.map((a) => (
          <li key={a.policyName} data-attached={a.policyName}>
            {a.policyName}{" "}
            <button
              type="button"
              className="link-button small"
              onClick={async () =>
                after(
                  await detach({ policyName: a.policyName, principal }),
                  `${a.policyName} detached from ${principal}.`,
                )
              }
            >
              Detach
              <span className="visually-hidden">
                {" "}
                {a.policyName} from {principal}
              </span>
            </button>
          </li>
        ))}
      </ul>
    );
  };

  const section = (id: string, title: string, kind: PrincipalKind | "policy" | "role", body: ReactNode) => (
    <section aria-labelledby={`${id}-heading`} className="spaced">
      <div className="page-head">
        <h2 id={`${id}-heading`}>{title}</h2>
        <button
          type="button"
          onClick={() =>
            open(
              kind === "policy"
                ? { form: "policy", policy: null }
                : kind === "role"
                  ? { form: "role" }
                  : { form: "principal", kind },
            )
          }
          {...readOnly}
        >
          New {kind === "service-account" ? "service account" : kind}
        </button>
      </div>
      {refused ? null : body}
    </section>
  );

  const principals = [
    ...users.map((u) => `user/${u.name}`),
    ...groups.map((g) => `group/${g.name}`),
    ...serviceAccounts.map((s) => `service-account/${s.name}`),
    ...roles.map((r) => `role/${r.name}`),
  ];
  const attachSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const policyName = String(form.get("policyName") ?? "");
    const principal = String(form.get("principal") ?? "");
    const result = await attach({ policyName, principal });
    after(
      result,
      result.data?.attachPolicyV2.changed === false
        ? `${policyName} was already attached to ${principal}.`
        : `${policyName} attached to ${principal}.`,
    );
  };

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Identity</h1>
          <p className="muted small">
            Account <strong>{account}</strong> · you are {me.principal} (<Link href="/me">who am I</Link>)
          </p>
        </div>
      </div>
      <p role="status" className={notice?.error ? "error" : "notice"}>
        {notice?.text}
      </p>
      {refused ? (
        <p id="identity-read-only" className="muted">
          You cannot see or change identities here: {reason}. The server said: “{refused.message}”
        </p>
      ) : null}

      {section(
        "users",
        "Users",
        "user",
        users.length === 0 ? (
          <p className="muted">No user you may manage.</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Users of account {account}</caption>
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Groups</th>
                  <th scope="col">Policies</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {users.map((u) => (
                  <tr key={u.name} data-user={u.name}>
                    <td>
                      <strong>{u.name}</strong>
                      {u.displayName || u.email ? (
                        <div className="muted small">
                          {[u.displayName, u.email].filter(Boolean).join(" · ")}
                        </div>
                      ) : null}
                    </td>
                    <td className="small">
                      {groupsOf(u.name).join(", ") || <span className="muted">none</span>}
                    </td>
                    <td>{attached(`user/${u.name}`)}</td>
                    <td className="small">
                      {formatTime(u.createdAt)} <div className="muted">by {u.createdBy}</div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ),
      )}

      {section(
        "groups",
        "Groups",
        "group",
        groups.length === 0 ? (
          <p className="muted">No group you may manage.</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Groups of account {account}</caption>
              <thead>
                <tr>
                  <th scope="col">Group</th>
                  <th scope="col">Members</th>
                  <th scope="col">Policies</th>
                </tr>
              </thead>
              <tbody>
                {groups.map((g) => {
                  const others = users.filter((u) => !g.members.includes(u.name));
                  return (
                    <tr key={g.name} data-group={g.name}>
                      <td>
                        <strong>{g.name}</strong>
                      </td>
                      <td>
                        <ul className="target-list">
                          {g.members.map((m) => (
                            <li key={m} data-member={m}>
                              {m}{" "}
                              <button
                                type="button"
                                className="link-button small"
                                onClick={async () =>
                                  after(
                                    await removeFromGroup({ groupName: g.name, userName: m }),
                                    `${m} removed from ${g.name}.`,
                                  )
                                }
                              >
                                Remove
                                <span className="visually-hidden">
                                  {" "}
                                  {m} from {g.name}
                                </span>
                              </button>
                            </li>
                          ))}
                        </ul>
                        {others.length > 0 ? (
                          <form
                            className="field-inline"
                            onSubmit={async (e) => {
                              e.preventDefault();
                              const userName = String(new FormData(e.currentTarget).get("userName") ?? "");
                              after(
                                await addToGroup({ groupName: g.name, userName }),
                                `${userName} added to ${g.name}.`,
                              );
                            }}
                          >
                            <label htmlFor={`add-to-${g.name}`} className="visually-hidden">
                              User to add to {g.name}
                            </label>
                            <select id={`add-to-${g.name}`} name="userName">
                              {others.map((u) => (
                                <option key={u.name} value={u.name}>
                                  {u.name}
                                </option>
                              ))}
                            </select>
                            <button type="submit">
                              Add<span className="visually-hidden"> to {g.name}</span>
                            </button>
                          </form>
                        ) : null}
                      </td>
                      <td>{attached(`group/${g.name}`)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ),
      )}

      {section(
        "service-accounts",
        "Service accounts",
        "service-account",
        serviceAccounts.length === 0 ? (
          <p className="muted">No service account you may manage.</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Service accounts of account {account}</caption>
              <thead>
                <tr>
                  <th scope="col">Service account</th>
                  <th scope="col">Policies</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {serviceAccounts.map((s) => (
                  <tr key={s.name} data-service-account={s.name}>
                    <td>
                      <strong>{s.name}</strong>
                      {s.description ? <div className="muted small">{s.description}</div> : null}
                    </td>
                    <td>{attached(`service-account/${s.name}`)}</td>
                    <td className="small">
                      {formatTime(s.createdAt)} <div className="muted">by {s.createdBy}</div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ),
      )}

      {section(
        "roles",
        "Roles",
        "role",
        roles.length === 0 ? (
          <p className="muted">No role you may manage.</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Roles of account {account}</caption>
              <thead>
                <tr>
                  <th scope="col">Role</th>
                  <th scope="col">Who may assume it</th>
                  <th scope="col">Policies</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {roles.map((r) => (
                  <tr key={r.name} data-role={r.name}>
                    <td>
                      <strong>{r.name}</strong>
                      <div className="muted small">
                        <code>{r.srn}</code> · sessions up to {r.maxSessionSeconds} s
                      </div>
                      {r.description ? <div className="muted small">{r.description}</div> : null}
                    </td>
                    <td className="small">{trustedPrincipals(r.trustPolicy).join(", ") || "–"}</td>
                    <td>{attached(`role/${r.name}`)}</td>
                    <td>
                      <button
                        type="button"
                        onClick={async () =>
                          after(await deleteRole({ name: r.name }), `Role ${r.name} deleted.`)
                        }
                      >
                        Delete<span className="visually-hidden"> role {r.name}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ),
      )}

      {section(
        "policies",
        "Policies",
        "policy",
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">
              Policies of account {account}: managed, then customer ones
            </caption>
            <thead>
              <tr>
                <th scope="col">Policy</th>
                <th scope="col">Attached to</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {policies.map((p) => {
                const where = attachments.filter((a) => a.policyName === p.name).map((a) => a.principal);
                const managed = p.managed
                  ? { disabled: true, title: MANAGED_REASON, "aria-describedby": "managed-policies" }
                  : {};
                return (
                  <tr key={p.name} data-policy-row={p.name}>
                    <td>
                      <strong>{p.name}</strong> {p.managed ? <span className="tag">managed</span> : null}
                      {p.description ? <div className="muted small">{p.description}</div> : null}
                      {p.updatedBy ? (
                        <div className="muted small">
                          saved {formatTime(p.updatedAt)} by {p.updatedBy}
                        </div>
                      ) : null}
                    </td>
                    <td className="small">{where.join(", ") || <span className="muted">nowhere</span>}</td>
                    <td>
                      <div className="buttons">
                        <button
                          type="button"
                          onClick={() => open({ form: "policy", policy: p })}
                          {...managed}
                        >
                          Edit<span className="visually-hidden"> policy {p.name}</span>
                        </button>
                        <button
                          type="button"
                          onClick={async () =>
                            after(await deletePolicy({ name: p.name }), `Policy ${p.name} deleted.`)
                          }
                          {...managed}
                        >
                          Delete<span className="visually-hidden"> policy {p.name}</span>
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          <p id="managed-policies" className="muted small">
            {MANAGED_REASON} Copy one into a new policy to change it.
          </p>
        </div>,
      )}

      <section aria-labelledby="attach-heading" className="spaced">
        <h2 id="attach-heading">Attach a policy</h2>
        <form className="field-row" onSubmit={(e) => void attachSubmit(e)} aria-label="Attach a policy">
          <div className="field">
            <label htmlFor="attach-policy">Policy</label>
            <select id="attach-policy" name="policyName" {...readOnly}>
              {policies.map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name}
                </option>
              ))}
            </select>
          </div>
          <div className="field">
            <label htmlFor="attach-principal">To</label>
            <select id="attach-principal" name="principal" {...readOnly}>
              {principals.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
          <div className="buttons">
            <button type="submit" className="primary" {...readOnly}>
              Attach
            </button>
          </div>
        </form>
      </section>

      {editing?.form === "principal" ? (
        <CreatePrincipalForm
          key={editing.key}
          kind={editing.kind}
          principal={me.principal}
          account={account}
          onClose={() => setEditing(null)}
          onDone={done}
        />
      ) : null}
      {editing?.form === "role" ? (
        <RoleForm
          key={editing.key}
          self={me.srn ?? `srn:sluice:${me.account}:root`}
          onClose={() => setEditing(null)}
          onDone={done}
        />
      ) : null}
      {editing?.form === "policy" ? (
        <PolicyEditor
          key={editing.key}
          editing={editing.policy}
          onClose={() => setEditing(null)}
          onDone={done}
        />
      ) : null}
    </>
  );
}
