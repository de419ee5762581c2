"use client";

import Link from "next/link";
import { useRef, useState } from "react";
import { useMutation, useQuery } from "urql";
import { useLiveQuery } from "@/components/live";
import { Pager } from "@/components/Pager";
import { formatTime } from "@/components/time";
import { Status } from "@/components/Status";
import { graphql } from "@/gql";
import { DELETE_RULE, DELETE_TARGET, RuleForm, TargetForm, type Rule, type Target } from "./forms";

const PAGE_SIZE = 25;

/** Whether the caller may change notifications: on its acting account's (known from NOTIFICATIONS). */
const MAY_MANAGE = graphql(`
  query NotificationsMayManage($resource: String!) {
    whoAmI {
      allowed(action: "sluice:ManageNotifications", resource: $resource)
    }
  }
`);
const STATUSES = ["PENDING", "SUCCEEDED", "FAILED"] as const;

const NOTIFICATIONS = graphql(`
  query PipelineNotifications(
    $name: String!
    $first: Int!
    $after: String
    $status: NotificationDeliveryStatus
  ) {
    pipeline(name: $name) {
      id
      name
      stages {
        name
      }
    }
    whoAmI {
      principal
      actingAccount
    }
    notificationTargetsV2(first: 100) {
      nodes {
        id
        name
        kind
        url
        secret
        headers {
          name
          value
        }
        emailAddresses
        subject
        natsSubject
        circuit {
          open
          openUntil
          consecutiveFailures
          lastError
        }
      }
    }
    notificationRulesV2(pipelineName: $name, first: 100) {
      nodes {
        id
        name
        enabled
        pipelineName
        eventTypes
        detailLevel
        circuitOpen
        filter {
          branches
          stageNames
        }
        targets {
          id
          name
          kind
          url
          natsSubject
          emailAddresses
          circuit {
            open
            openUntil
            consecutiveFailures
            lastError
          }
        }
      }
    }
    notificationDeliveries(pipelineName: $name, first: $first, after: $after, status: $status) {
      nodes {
        id
        status
        eventType
        ruleName
        targetName
        message
        link
        attempts
        createdAt
        deliveredAt
        nextAttemptAt
        lastStatusCode
        lastLatencyMs
        lastError
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
`);

const DELIVERY_EVENTS = graphql(`
  subscription NotificationDeliveryEvents {
    notificationDeliveryEvents {
      id
      pipelineName
      status
    }
  }
`);

const TEST_RULE = graphql(`
  mutation TestNotificationRule($id: ID!) {
    testNotificationRuleV2(input: { id: $id }) {
      notificationDeliveries {
        id
        targetName
      }
    }
  }
`);

const REDELIVER = graphql(`
  mutation RedeliverNotification($id: ID!) {
    redeliverNotificationV2(input: { id: $id }) {
      notificationDelivery {
        id
        status
      }
    }
  }
`);

const SET_RULE_ENABLED = graphql(`
  mutation SetNotificationRuleEnabled($id: ID!, $rule: NotificationRuleInput!) {
    updateNotificationRuleV2(input: { id: $id, rule: $rule }) {
      notificationRule {
        id
        enabled
      }
    }
  }
`);

/** Which form is open (a null target or rule: a new one); `key` mounts a fresh form each time. */
type EditRequest = { form: "target"; target: Target | null } | { form: "rule"; rule: Rule | null };
type Editing = (EditRequest & { key: number }) | null;

/** Where a target sends: its URL's origin, subject or addresses (secrets are masked by the server). */
function destination(t: {
  kind: string;
  url?: string | null;
  natsSubject?: string | null;
  emailAddresses?: string[] | null;
}): string {
  if (t.kind === "NATS") return t.natsSubject ?? "";
  if (t.kind === "EMAIL") return (t.emailAddresses ?? []).join(", ");
  return t.url ?? "";
}

/**
 * /pipelines/[name]/notifications: the notification rules that apply to the pipeline (its own and
 * those of every pipeline) with their targets and circuit breakers, and the pipeline's delivery
 * log, newest first, filtered by status. "Send test" sends a TEST message to each target of a rule;
 * "Redeliver" sends a delivery again with the same message id. Rules and targets are created,
 * edited and deleted in forms (forms.tsx) that show the server's problems at their fields. Live:
 * each delivery event (on any server copy) fetches the page again.
 */
export function NotificationsView({ name }: { name: string }) {
  const [status, setStatus] = useState<(typeof STATUSES)[number] | "">("");
  const [cursors, setCursors] = useState<string[]>([]);
  const [notice, setNotice] = useState<{ text: string; error?: boolean } | null>(null);
  const after = cursors.length > 0 ? cursors[cursors.length - 1]! : null;
  const [{ data, error, fetching }, refetch] = useLiveQuery({
    query: NOTIFICATIONS,
    variables: { name, first: PAGE_SIZE, after, status: status || null },
    subscription: DELIVERY_EVENTS,
    subscriptionVariables: {},
    onEvent: (event) => event.notificationDeliveryEvents.pipelineName === name,
  });
  // Notifications are the account's the caller acts in: srn:sluice:<account>:notifications.
  const account = data?.whoAmI.actingAccount;
  const notificationsSrn = `srn:sluice:${account ?? "default"}:notifications`;
  const [{ data: may, error: mayError }] = useQuery({
    query: MAY_MANAGE,
    variables: { resource: notificationsSrn },
    pause: account === undefined,
  });
  const [testing, testRule] = useMutation(TEST_RULE);
  const [, redeliver] = useMutation(REDELIVER);
  const [, setRuleEnabled] = useMutation(SET_RULE_ENABLED);
  const [, deleteTarget] = useMutation(DELETE_TARGET);
  const [, deleteRule] = useMutation(DELETE_RULE);
  const [editing, setEditing] = useState<Editing>(null);
  const opened = useRef(0);
  const edit = (next: EditRequest) => setEditing({ ...next, key: ++opened.current });

  if (error && !data)
    return (
      <p role="alert" className="error">
        {error.message}
      </p>
    );
  // The page shows once it knows whether the caller may change it (an error answers no).
  if (!data || (!may && !mayError)) return <p className="muted">Loading…</p>;
  if (!data.pipeline)
    return (
      <p role="alert" className="error">
        There is no pipeline named “{name}”.
      </p>
    );
  const path = `/pipelines/${encodeURIComponent(name)}`;
  const deliveries = data.notificationDeliveries.nodes;
  // Changing anything needs sluice:ManageNotifications: without it the buttons are disabled, and say why.
  const mayManage = may?.whoAmI.allowed ?? false;
  const readOnly = mayManage
    ? {}
    : {
        disabled: true,
        title: `${data.whoAmI.principal} is not allowed sluice:ManageNotifications`,
        "aria-describedby": "notifications-read-only",
      };

  const saved = (text: string) => {
    setEditing(null);
    setNotice({ text });
    refetch({ requestPolicy: "network-only" });
  };
  const remove = async (what: "rule" | "target", id: string, label: string) => {
    const result = what === "rule" ? await deleteRule({ id }) : await deleteTarget({ id });
    setNotice(
      result.error
        ? { text: result.error.graphQLErrors[0]?.message ?? result.error.message, error: true }
        : { text: `${what === "rule" ? "Rule" : "Target"} ${label} deleted.` },
    );
    refetch({ requestPolicy: "network-only" });
  };

  const toggle = async (rule: Rule) => {
    const result = await setRuleEnabled({
      id: rule.id,
      rule: {
        name: rule.name,
        pipelineName: rule.pipelineName ?? null,
        eventTypes: rule.eventTypes,
        detailLevel: rule.detailLevel,
        filter: rule.filter ? { branches: rule.filter.branches, stageNames: rule.filter.stageNames } : null,
        targetIds: rule.targets.map((t) => t.id),
        enabled: !rule.enabled,
      },
    });
    setNotice(
      result.error
        ? { text: result.error.message, error: true }
        : { text: `${rule.name} is ${rule.enabled ? "muted" : "on"}.` },
    );
    refetch({ requestPolicy: "network-only" });
  };

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Notifications of {name}</h1>
          <p className="muted small">
            <Link href={path}>Pipeline</Link> · <Link href={`${path}/executions`}>History</Link>
          </p>
        </div>
      </div>
      <p role="status" className={notice?.error ? "error" : "notice"}>
        {notice?.text}
      </p>
      {mayManage ? null : (
        <p id="notifications-read-only" className="muted">
          You can read the notifications but not change them: {data.whoAmI.principal} is not allowed{" "}
          <code>sluice:ManageNotifications</code> on <code>{notificationsSrn}</code>.
        </p>
      )}

      <section aria-labelledby="rules-heading">
        <div className="page-head">
          <h2 id="rules-heading">Rules</h2>
          <button type="button" onClick={() => edit({ form: "rule", rule: null })} {...readOnly}>
            New rule
          </button>
        </div>
        {data.notificationRulesV2.nodes.length === 0 ? (
          <p className="muted">
            No notification rule applies to this pipeline. Create one with “New rule”,{" "}
            <code>sluice create-notification-rule</code> or the <code>createNotificationRuleV2</code>{" "}
            mutation.
          </p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Notification rules that apply to {name}</caption>
              <thead>
                <tr>
                  <th scope="col">Rule</th>
                  <th scope="col">Events</th>
                  <th scope="col">Targets</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {data.notificationRulesV2.nodes.map((rule) => (
                  <tr key={rule.id} data-rule={rule.name}>
                    <td>
                      <strong>{rule.name}</strong>
                      <div className="muted small">
                        {rule.enabled ? "on" : "muted"} ·{" "}
                        {rule.pipelineName ? "this pipeline" : "every pipeline"} ·{" "}
                        {rule.detailLevel.toLowerCase()}
                        {rule.filter?.branches.length ? ` · branches ${rule.filter.branches.join(", ")}` : ""}
                        {rule.filter?.stageNames.length
                          ? ` · stages ${rule.filter.stageNames.join(", ")}`
                          : ""}
                      </div>
                    </td>
                    <td className="small">{rule.eventTypes.join(", ")}</td>
                    <td>
                      <ul className="target-list">
                        {rule.targets.map((t) => (
                          <li key={t.id} data-target={t.name}>
                            {t.name} <span className="muted small">({t.kind.toLowerCase()})</span>{" "}
                            <code className="small">{destination(t)}</code>
                            {t.circuit.open ? (
                              <div className="error small" role="note">
                                Circuit open after {t.circuit.consecutiveFailures} failures
                                {t.circuit.openUntil ? ` until ${formatTime(t.circuit.openUntil)}` : ""}
                                {t.circuit.lastError ? `: ${t.circuit.lastError}` : ""}
                              </div>
                            ) : null}
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td>
                      <div className="buttons">
                        <button
                          type="button"
                          disabled={testing.fetching}
                          {...readOnly}
                          onClick={async () => {
                            const result = await testRule({ id: rule.id });
                            setNotice(
                              result.error
                                ? { text: result.error.message, error: true }
                                : {
                                    text: `Test sent to ${result.data?.testNotificationRuleV2.notificationDeliveries.map((d) => d.targetName).join(", ")}.`,
                                  },
                            );
                            refetch({ requestPolicy: "network-only" });
                          }}
                        >
                          Send test<span className="visually-hidden"> of {rule.name}</span>
                        </button>
                        <button type="button" onClick={() => toggle(rule)} {...readOnly}>
                          {rule.enabled ? "Mute" : "Unmute"}
                          <span className="visually-hidden"> {rule.name}</span>
                        </button>
                        <button type="button" onClick={() => edit({ form: "rule", rule })} {...readOnly}>
                          Edit<span className="visually-hidden"> rule {rule.name}</span>
                        </button>
                        <button
                          type="button"
                          onClick={() => remove("rule", rule.id, rule.name)}
                          {...readOnly}
                        >
                          Delete<span className="visually-hidden"> rule {rule.name}</span>
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section aria-labelledby="targets-heading" className="spaced">
        <div className="page-head">
          <h2 id="targets-heading">Targets</h2>
          <button type="button" onClick={() => edit({ form: "target", target: null })} {...readOnly}>
            New target
          </button>
        </div>
        {data.notificationTargetsV2.nodes.length === 0 ? (
          <p className="muted">No target exists yet: a rule sends to one or more targets.</p>
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Notification targets (shared by every pipeline)</caption>
              <thead>
                <tr>
                  <th scope="col">Target</th>
                  <th scope="col">Sends to</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {data.notificationTargetsV2.nodes.map((t) => (
                  <tr key={t.id} data-target-row={t.name}>
                    <td>
                      <strong>{t.name}</strong> <span className="muted small">({t.kind.toLowerCase()})</span>
                      {t.circuit.open ? (
                        <div className="error small" role="note">
                          Circuit open after {t.circuit.consecutiveFailures} failures
                        </div>
                      ) : null}
                    </td>
                    <td>
                      <code className="small">{destination(t)}</code>
                      {t.secret ? <div className="muted small">signed</div> : null}
                    </td>
                    <td>
                      <div className="buttons">
                        <button
                          type="button"
                          onClick={() => edit({ form: "target", target: t })}
                          {...readOnly}
                        >
                          Edit<span className="visually-hidden"> target {t.name}</span>
                        </button>
                        <button type="button" onClick={() => remove("target", t.id, t.name)} {...readOnly}>
                          Delete<span className="visually-hidden"> target {t.name}</span>
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      {editing?.form === "target" ? (
        <TargetForm
          key={editing.key}
          open
          editing={editing.target}
          onClose={() => setEditing(null)}
          onDone={saved}
        />
      ) : null}
      {editing?.form === "rule" ? (
        <RuleForm
          key={editing.key}
          open
          editing={editing.rule}
          pipeline={name}
          stages={data.pipeline.stages.map((s) => s.name)}
          targets={data.notificationTargetsV2.nodes}
          onClose={() => setEditing(null)}
          onDone={saved}
        />
      ) : null}

      <section aria-labelledby="deliveries-heading" className="spaced">
        <div className="page-head">
          <h2 id="deliveries-heading">Delivery log</h2>
          <div className="field-inline">
            <label htmlFor="delivery-status">Status</label>
            <select
              id="delivery-status"
              value={status}
              onChange={(e) => {
                setStatus(e.target.value as typeof status);
                setCursors([]);
              }}
            >
              <option value="">All</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s.charAt(0) + s.slice(1).toLowerCase()}
                </option>
              ))}
            </select>
          </div>
        </div>
        {deliveries.length === 0 ? (
          <p className="muted">{status ? "No delivery has this status." : "Nothing was sent yet."}</p>
        ) : (
          <div className="table-wrap">
            <table className="table" aria-busy={fetching}>
              <caption className="visually-hidden">
                Deliveries for {name}, newest first, page {cursors.length + 1}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Status</th>
                  <th scope="col">Event</th>
                  <th scope="col">Rule → target</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Created</th>
                  <th scope="col">Actions</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.map((d) => (
                  <tr key={d.id} data-delivery={d.id} data-status={d.status}>
                    <td>
                      <Status status={d.status} />
                      {d.status === "PENDING" && d.nextAttemptAt ? (
                        <div className="muted small">next at {formatTime(d.nextAttemptAt)}</div>
                      ) : null}
                    </td>
                    <td>
                      {d.eventType}
                      <div className="muted small">
                        <a href={d.link}>{d.message}</a>
                      </div>
                    </td>
                    <td>
                      {d.ruleName} → {d.targetName}
                    </td>
                    <td>
                      {d.attempts}
                      {d.lastStatusCode != null || d.lastLatencyMs != null ? (
                        <div className="muted small">
                          {[
                            d.lastStatusCode != null ? `status ${d.lastStatusCode}` : null,
                            d.lastLatencyMs != null ? `${d.lastLatencyMs} ms` : null,
                          ]
                            .filter(Boolean)
                            .join(" · ")}
                        </div>
                      ) : null}
                      {d.lastError ? <div className="error small">{d.lastError}</div> : null}
                    </td>
                    <td>
                      <time dateTime={d.createdAt}>{formatTime(d.createdAt)}</time>
                    </td>
                    <td>
                      <button
                        type="button"
                        {...readOnly}
                        onClick={async () => {
                          const result = await redeliver({ id: d.id });
                          setNotice(
                            result.error
                              ? { text: result.error.message, error: true }
                              : { text: `Redelivering to ${d.targetName}.` },
                          );
                          refetch({ requestPolicy: "network-only" });
                        }}
                      >
                        Redeliver<span className="visually-hidden"> {d.id.slice(0, 8)}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <Pager
          label="Pages of deliveries"
          cursors={cursors}
          pageInfo={data.notificationDeliveries.pageInfo}
          setCursors={setCursors}
        />
      </section>
    </>
  );
}
