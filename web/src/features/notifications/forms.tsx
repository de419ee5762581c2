"use client";

import { useState, type ReactNode } from "react";
import { useMutation } from "urql";
import { FormDialog } from "@/components/Dialog";
import { Field, IssueList } from "@/features/editor/Field";
import { saveFailure } from "@/features/editor/queries";
import type { Issue } from "@/features/editor/draft";
import { graphql } from "@/gql";
import type {
  NotificationDetailLevel,
  NotificationEventType,
  NotificationTargetKind,
  PipelineNotificationsQuery,
} from "@/gql/graphql";

export type Target = PipelineNotificationsQuery["notificationTargetsV2"]["nodes"][number];
export type Rule = PipelineNotificationsQuery["notificationRulesV2"]["nodes"][number];

/** The write-only placeholder: sent back, it keeps the stored secret, URL path or header value. */
const MASK = "****";

export const TARGET_KINDS: readonly NotificationTargetKind[] = ["WEBHOOK", "SLACK", "TEAMS", "EMAIL", "NATS"];
const KIND_LABELS: Record<NotificationTargetKind, string> = {
  WEBHOOK: "Webhook (signed JSON)",
  SLACK: "Slack, Mattermost or Rocket.Chat",
  TEAMS: "Microsoft Teams",
  EMAIL: "E-mail",
  NATS: "NATS subject",
};

/** The event types a rule can match (the NotificationEventType enum), grouped as the issue lists them. */
export const EVENT_TYPES: readonly NotificationEventType[] = [
  "EXECUTION_STARTED",
  "EXECUTION_SUCCEEDED",
  "EXECUTION_FAILED",
  "EXECUTION_STOPPED",
  "EXECUTION_SUPERSEDED",
  "EXECUTION_RESUMED",
  "STAGE_STARTED",
  "STAGE_SUCCEEDED",
  "STAGE_FAILED",
  "STAGE_ROLLED_BACK",
  "ACTION_STARTED",
  "ACTION_SUCCEEDED",
  "ACTION_FAILED",
  "APPROVAL_NEEDED",
  "APPROVAL_APPROVED",
  "APPROVAL_REJECTED",
  "APPROVAL_TIMED_OUT",
  "TRANSITION_DISABLED",
  "TRANSITION_ENABLED",
  "PIPELINE_CREATED",
  "PIPELINE_UPDATED",
  "PIPELINE_DELETED",
];

const CREATE_TARGET = graphql(`
  mutation CreateNotificationTarget($target: NotificationTargetInput!) {
    createNotificationTargetV2(input: { target: $target }) {
      notificationTarget {
        id
        name
      }
    }
  }
`);

const UPDATE_TARGET = graphql(`
  mutation UpdateNotificationTarget($id: ID!, $target: NotificationTargetInput!) {
    updateNotificationTargetV2(input: { id: $id, target: $target }) {
      notificationTarget {
        id
        name
      }
    }
  }
`);

const CREATE_RULE = graphql(`
  mutation CreateNotificationRule($rule: NotificationRuleInput!) {
    createNotificationRuleV2(input: { rule: $rule }) {
      notificationRule {
        id
        name
      }
    }
  }
`);

const UPDATE_RULE = graphql(`
  mutation UpdateNotificationRule($id: ID!, $rule: NotificationRuleInput!) {
    updateNotificationRuleV2(input: { id: $id, rule: $rule }) {
      notificationRule {
        id
        name
      }
    }
  }
`);

export const DELETE_TARGET = graphql(`
  mutation DeleteNotificationTarget($id: ID!) {
    deleteNotificationTargetV2(input: { id: $id }) {
      deletedNotificationTargetId
    }
  }
`);

export const DELETE_RULE = graphql(`
  mutation DeleteNotificationRule($id: ID!) {
    deleteNotificationRuleV2(input: { id: $id }) {
      deletedNotificationRuleId
    }
  }
`);

function text(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === "string" ? value.trim() : "";
}

/** Comma- or line-separated values, trimmed, empty ones left out. */
function list(value: string): string[] {
  return value
    .split(/[\n,]/)
    .map((v) => v.trim())
    .filter((v) => v.length > 0);
}

/**
 * The server's problems by form field: `target.emailAddresses[1]` and `target.headers[0].name` are
 * the emailAddresses and headers fields, `rule.filter.stageNames[2]` is filter.stageNames.
 */
function issuesByField(issues: Issue[], root: string): Map<string, Issue[]> {
  const byField = new Map<string, Issue[]>();
  for (const issue of issues) {
    const match = new RegExp(`^${root}\\.([A-Za-z.]+?)(?:\\[|$)`).exec(issue.path);
    const field = match?.[1] ?? "";
    byField.set(field, [...(byField.get(field) ?? []), issue]);
  }
  return byField;
}

interface FormProps<T> {
  open: boolean;
  /** null: a new one. */
  editing: T | null;
  onClose(): void;
  onDone(message: string): void;
}

/**
 * Creates or edits a target. Secrets are write-only: the webhook's signing secret, header values
 * and the path of a Slack or Teams URL are never shown; left empty (or `****`) they keep what is
 * stored. A target's kind does not change once created.
 */
export function TargetForm(props: FormProps<Target>) {
  const { editing } = props;
  const [kind, setKind] = useState<NotificationTargetKind>(editing?.kind ?? "WEBHOOK");
  const [issues, setIssues] = useState<Map<string, Issue[]>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [created, create] = useMutation(CREATE_TARGET);
  const [updated, update] = useMutation(UPDATE_TARGET);
  const busy = created.fetching || updated.fetching;
  const close = () => {
    setIssues(new Map());
    setError(null);
    props.onClose();
  };
  const urlIsSecret = kind === "SLACK" || kind === "TEAMS";

  const submit = async (data: FormData) => {
    const name = text(data, "name");
    const input: Record<string, unknown> = { name, kind };
    if (kind === "WEBHOOK" || urlIsSecret) {
      const url = text(data, "url");
      // A Slack or Teams URL is shown as its origin only: empty keeps the stored one.
      input.url = urlIsSecret && editing && (url === "" || url === editing.url) ? MASK : url;
    }
    if (kind === "WEBHOOK") {
      const secret = text(data, "secret");
      if (data.get("removeSecret") === "on") input.secret = null;
      else if (secret) input.secret = secret;
      // left out: a new target has none, an edited one keeps its own
      const headers = text(data, "headers")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line.length > 0)
        .map((line) => {
          const colon = line.indexOf(":");
          return colon < 0
            ? { name: line, value: "" }
            : { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() };
        });
      input.headers = headers.length > 0 ? headers : null;
    }
    if (kind === "EMAIL") input.emailAddresses = list(text(data, "emailAddresses"));
    if (kind === "NATS") input.subject = text(data, "subject");
    const result = editing
      ? await update({ id: editing.id, target: input as never })
      : await create({ target: input as never });
    if (result.error) {
      const failure = saveFailure(result.error);
      const byField = issuesByField(failure.issues, "target");
      setIssues(byField);
      setError(
        failure.issues.length > 0 ? "The target was not saved: see the fields marked." : failure.message,
      );
      return;
    }
    setIssues(new Map());
    setError(null);
    props.onDone(`Target ${name} ${editing ? "saved" : "created"}.`);
  };

  return (
    <FormDialog
      open={props.open}
      title={editing ? `Edit target ${editing.name}` : "New notification target"}
      busy={busy}
      error={error}
      onClose={close}
      onSubmit={(data) => void submit(data)}
    >
      <Field path="target.name" label="Name" issues={issues.get("name")}>
        {(control) => <input {...control} name="name" defaultValue={editing?.name ?? ""} required />}
      </Field>
      <Field
        path="target.kind"
        label="Kind"
        hint={editing ? "A target's kind does not change." : undefined}
        issues={issues.get("kind")}
      >
        {(control) => (
          <select
            {...control}
            name="kind"
            value={kind}
            disabled={editing !== null}
            onChange={(e) => setKind(e.target.value as NotificationTargetKind)}
          >
            {TARGET_KINDS.map((k) => (
              <option key={k} value={k}>
                {KIND_LABELS[k]}
              </option>
            ))}
          </select>
        )}
      </Field>
      {kind === "WEBHOOK" || urlIsSecret ? (
        <Field
          path="target.url"
          label="URL"
          hint={
            urlIsSecret && editing
              ? `Stored as ${editing.url ?? MASK}; leave empty to keep it.`
              : "An https address."
          }
          issues={issues.get("url")}
        >
          {(control) => (
            <input
              {...control}
              name="url"
              type="text"
              inputMode="url"
              autoComplete="off"
              placeholder="https://hooks.example.com/sluice"
              defaultValue={editing && kind === "WEBHOOK" ? (editing.url ?? "") : ""}
              required={!(urlIsSecret && editing)}
            />
          )}
        </Field>
      ) : null}
      {kind === "WEBHOOK" ? (
        <>
          <Field
            path="target.secret"
            label="Signing secret (optional)"
            hint={
              editing?.secret
                ? "A secret is set; it is never shown. Leave empty to keep it."
                : "16–200 characters; receivers check the Sluice-Signature header with it."
            }
            issues={issues.get("secret")}
          >
            {(control) => <input {...control} name="secret" type="password" autoComplete="new-password" />}
          </Field>
          {editing?.secret ? (
            <label className="check">
              <input type="checkbox" name="removeSecret" /> Remove the signing secret
            </label>
          ) : null}
          <Field
            path="target.headers"
            label="Extra headers (optional)"
            hint={`One "Name: value" a line. Values are never shown: ${MASK} keeps the stored value.`}
            issues={issues.get("headers")}
          >
            {(control) => (
              <textarea
                {...control}
                name="headers"
                rows={2}
                defaultValue={(editing?.headers ?? []).map((h) => `${h.name}: ${MASK}`).join("\n")}
              />
            )}
          </Field>
        </>
      ) : null}
      {kind === "EMAIL" ? (
        <Field
          path="target.emailAddresses"
          label="Addresses"
          hint="One a line, or separated by commas."
          issues={issues.get("emailAddresses")}
        >
          {(control) => (
            <textarea
              {...control}
              name="emailAddresses"
              rows={2}
              defaultValue={(editing?.emailAddresses ?? []).join("\n")}
            />
          )}
        </Field>
      ) : null}
      {kind === "NATS" ? (
        <Field
          path="target.subject"
          label="Subject"
          hint="1–8 dot-separated tokens, no wildcards; published under the installation's notification root."
          issues={issues.get("subject")}
        >
          {(control) => <input {...control} name="subject" defaultValue={editing?.subject ?? ""} />}
        </Field>
      ) : null}
      <IssueList issues={issues.get("")} />
      <div className="buttons">
        <button type="submit" className="primary" disabled={busy}>
          {editing ? "Save target" : "Create target"}
        </button>
        <button type="button" onClick={close}>
          Cancel
        </button>
      </div>
    </FormDialog>
  );
}

/**
 * Creates or edits a rule of this pipeline (or, with "every pipeline", of all): the events it
 * matches, its targets, a filter by stage and branch, its detail level, on or muted.
 */
export function RuleForm(props: FormProps<Rule> & { pipeline: string; stages: string[]; targets: Target[] }) {
  const { editing } = props;
  const [issues, setIssues] = useState<Map<string, Issue[]>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [created, create] = useMutation(CREATE_RULE);
  const [updated, update] = useMutation(UPDATE_RULE);
  const busy = created.fetching || updated.fetching;
  const close = () => {
    setIssues(new Map());
    setError(null);
    props.onClose();
  };
  const chosenEvents = new Set<string>(editing?.eventTypes ?? []);
  const chosenTargets = new Set(editing?.targets.map((t) => t.id) ?? []);
  const chosenStages = new Set(editing?.filter?.stageNames ?? []);

  const submit = async (data: FormData) => {
    const name = text(data, "name");
    const stageNames = data.getAll("stageNames").map(String);
    const branches = list(text(data, "branches"));
    const rule = {
      name,
      pipelineName: text(data, "scope") === "all" ? null : props.pipeline,
      eventTypes: data.getAll("eventTypes").map(String) as NotificationEventType[],
      targetIds: data.getAll("targetIds").map(String),
      detailLevel: text(data, "detailLevel") as NotificationDetailLevel,
      enabled: data.get("enabled") === "on",
      filter: stageNames.length > 0 || branches.length > 0 ? { stageNames, branches } : null,
    };
    const result = editing ? await update({ id: editing.id, rule }) : await create({ rule });
    if (result.error) {
      const failure = saveFailure(result.error);
      setIssues(issuesByField(failure.issues, "rule"));
      setError(
        failure.issues.length > 0 ? "The rule was not saved: see the fields marked." : failure.message,
      );
      return;
    }
    setIssues(new Map());
    setError(null);
    props.onDone(`Rule ${name} ${editing ? "saved" : "created"}.`);
  };

  const errorId = (field: string) => `rule-${field.replace(/\W+/g, "-")}-error`;
  const fieldset = (field: string, legend: string, body: ReactNode) => (
    <fieldset
      className={`field${issues.get(field) ? " field-invalid" : ""}`}
      aria-describedby={issues.get(field) ? errorId(field) : undefined}
    >
      <legend>{legend}</legend>
      {body}
      <IssueList id={errorId(field)} issues={issues.get(field)} />
    </fieldset>
  );

  return (
    <FormDialog
      open={props.open}
      title={editing ? `Edit rule ${editing.name}` : "New notification rule"}
      busy={busy}
      error={error}
      onClose={close}
      onSubmit={(data) => void submit(data)}
    >
      <Field path="rule.name" label="Name" issues={issues.get("name")}>
        {(control) => <input {...control} name="name" defaultValue={editing?.name ?? ""} required />}
      </Field>
      <Field path="rule.pipelineName" label="Applies to" issues={issues.get("pipelineName")}>
        {(control) => (
          <select
            {...control}
            name="scope"
            defaultValue={editing && editing.pipelineName === null ? "all" : "this"}
          >
            <option value="this">This pipeline ({props.pipeline})</option>
            <option value="all">Every pipeline</option>
          </select>
        )}
      </Field>
      {fieldset(
        "eventTypes",
        "Events",
        <div className="checks">
          {EVENT_TYPES.map((type) => (
            <label key={type} className="check">
              <input type="checkbox" name="eventTypes" value={type} defaultChecked={chosenEvents.has(type)} />
              {type.toLowerCase().replace(/_/g, " ")}
            </label>
          ))}
        </div>,
      )}
      {fieldset(
        "targetIds",
        "Targets",
        props.targets.length === 0 ? (
          <p className="muted small">No target exists yet: create one first.</p>
        ) : (
          <div className="checks">
            {props.targets.map((t) => (
              <label key={t.id} className="check">
                <input
                  type="checkbox"
                  name="targetIds"
                  value={t.id}
                  defaultChecked={chosenTargets.has(t.id)}
                />
                {t.name} <span className="muted small">({t.kind.toLowerCase()})</span>
              </label>
            ))}
          </div>
        ),
      )}
      {fieldset(
        "filter.stageNames",
        "Only these stages (none: all)",
        <div className="checks">
          {props.stages.map((stage) => (
            <label key={stage} className="check">
              <input
                type="checkbox"
                name="stageNames"
                value={stage}
                defaultChecked={chosenStages.has(stage)}
              />
              {stage}
            </label>
          ))}
        </div>,
      )}
      <Field
        path="rule.filter.branches"
        label="Only these branches (optional)"
        hint="Separated by commas; empty: every branch."
        issues={issues.get("filter.branches")}
      >
        {(control) => (
          <input {...control} name="branches" defaultValue={(editing?.filter?.branches ?? []).join(", ")} />
        )}
      </Field>
      <Field path="rule.detailLevel" label="Detail" issues={issues.get("detailLevel")}>
        {(control) => (
          <select {...control} name="detailLevel" defaultValue={editing?.detailLevel ?? "BASIC"}>
            <option value="BASIC">Basic: what happened and the link</option>
            <option value="FULL">Full: also the trigger, revisions and summary</option>
          </select>
        )}
      </Field>
      <label className="check">
        <input type="checkbox" name="enabled" defaultChecked={editing?.enabled ?? true} /> On (unchecked:
        muted)
      </label>
      <IssueList issues={issues.get("")} />
      <div className="buttons">
        <button type="submit" className="primary" disabled={busy}>
          {editing ? "Save rule" : "Create rule"}
        </button>
        <button type="button" onClick={close}>
          Cancel
        </button>
      </div>
    </FormDialog>
  );
}
