import crypto from "node:crypto";
import type { NotificationEventType, NotifiedEvent } from "./events";
import type { DetailLevel } from "./rules";

/** The version of the webhook body's schema (docs/notifications.md); a breaking change makes it 2. */
export const SCHEMA_VERSION = 1;

/** What the dispatcher read about the event's execution when it matched the rule. */
export interface ExecutionFacts {
  status: string | null;
  statusSummary: string | null;
  triggerType: string | null;
  triggerDetail: string | null;
  sourceRevisions: Array<{
    actionName: string;
    revisionId: string;
    revisionSummary: string | null;
    revisionUrl: string | null;
  }>;
  branches: string[];
}

/** One message as stored with its delivery: everything every kind of target renders. */
export interface Notification {
  /** The message id receivers de-duplicate on: the same on every attempt and redelivery. */
  id: string;
  type: NotificationEventType | "TEST";
  event: NotifiedEvent;
  execution: ExecutionFacts | null;
  rule: { id: string; name: string; detailLevel: DetailLevel };
  /** APPROVAL_NEEDED to an approver: what the approval's configuration tells the reviewer. */
  approval?: ApprovalFacts | null;
}

/** The manual approval's CustomData and ExternalEntityLink, as resolved when it started waiting. */
export interface ApprovalFacts {
  customData: string | null;
  externalEntityLink: string | null;
}

const VERBS: Record<string, string> = {
  EXECUTION_STARTED: "started",
  EXECUTION_SUCCEEDED: "succeeded",
  EXECUTION_FAILED: "failed",
  EXECUTION_STOPPED: "was stopped",
  EXECUTION_SUPERSEDED: "was superseded",
  EXECUTION_RESUMED: "resumed",
  STAGE_STARTED: "started",
  STAGE_SUCCEEDED: "succeeded",
  STAGE_FAILED: "failed",
  STAGE_ROLLED_BACK: "was rolled back",
  ACTION_STARTED: "started",
  ACTION_SUCCEEDED: "succeeded",
  ACTION_FAILED: "failed",
  APPROVAL_NEEDED: "needs a manual approval",
  APPROVAL_APPROVED: "was approved",
  APPROVAL_REJECTED: "was rejected",
  APPROVAL_TIMED_OUT: "timed out waiting for approval",
  TRANSITION_DISABLED: "is disabled",
  TRANSITION_ENABLED: "is enabled",
  PIPELINE_CREATED: "was created",
  PIPELINE_UPDATED: "was updated",
  PIPELINE_DELETED: "was deleted",
};

const shortId = (id: string) => id.slice(0, 8);

/** One line that says what happened: `Pipeline app: stage Deploy of execution 1a2b3c4d failed`. */
export function statusMessage(n: Notification): string {
  const e = n.event;
  const head = `Pipeline ${e.pipelineName}`;
  if (n.type === "TEST") return `${head}: test notification of rule ${n.rule.name}`;
  const verb = VERBS[n.type] ?? n.type.toLowerCase();
  const execution = e.executionId ? `execution ${shortId(e.executionId)}` : null;
  if (n.type.startsWith("PIPELINE_")) {
    return `${head} ${verb}${e.pipelineVersion ? ` (version ${e.pipelineVersion})` : ""}`;
  }
  if (n.type.startsWith("TRANSITION_")) return `${head}: the transition into stage ${e.stageName} ${verb}`;
  if (n.type.startsWith("APPROVAL_")) {
    return `${head}: approval ${e.actionName} in stage ${e.stageName} of ${execution} ${verb}`;
  }
  if (n.type.startsWith("ACTION_")) {
    return `${head}: action ${e.actionName} in stage ${e.stageName} of ${execution} ${verb}`;
  }
  if (n.type.startsWith("STAGE_")) return `${head}: stage ${e.stageName} of ${execution} ${verb}`;
  return `${head}: ${execution} ${verb}`;
}

/**
 * The dashboard page of what the event is about (web/src/app): an action's log, an execution,
 * the pipeline (transitions and approvals are acted on there), or the pipeline list.
 */
export function dashboardLink(base: string, n: Notification): string {
  const e = n.event;
  const root = base.replace(/\/+$/, "");
  if (n.type === "PIPELINE_DELETED") return `${root}/`;
  if (n.type === "APPROVAL_NEEDED" && e.actionExecutionId) {
    // The pipeline page opens the approval's review dialog (web/src/features/pipeline/PipelineView.tsx).
    return `${root}/pipelines/${encodeURIComponent(e.pipelineName)}?approval=${encodeURIComponent(e.actionExecutionId)}`;
  }
  if (n.type.startsWith("APPROVAL_") || n.type.startsWith("TRANSITION_") || e.executionId === null) {
    return `${root}/pipelines/${encodeURIComponent(e.pipelineName)}`;
  }
  if (n.type.startsWith("ACTION_") && e.actionExecutionId) {
    return `${root}/executions/${encodeURIComponent(e.executionId)}/actions/${encodeURIComponent(e.actionExecutionId)}/logs`;
  }
  return `${root}/executions/${encodeURIComponent(e.executionId)}`;
}

function revisionLine(n: Notification): string | null {
  const revisions = n.execution?.sourceRevisions ?? [];
  if (revisions.length === 0) return null;
  return revisions
    .map(
      (r) =>
        `${r.revisionId.slice(0, 12)}${r.revisionSummary ? ` (${r.revisionSummary.split("\n")[0]})` : ""}`,
    )
    .join(", ");
}

/** The webhook body, schema version 1 (docs/notifications.md). BASIC leaves out the execution's details. */
export function webhookBody(n: Notification, link: string): Record<string, unknown> {
  const e = n.event;
  const full = n.rule.detailLevel === "FULL";
  return {
    schemaVersion: SCHEMA_VERSION,
    id: n.id,
    type: n.type,
    test: n.type === "TEST",
    at: e.at,
    message: statusMessage(n),
    link,
    pipeline: { name: e.pipelineName, version: e.pipelineVersion ?? null },
    execution:
      e.executionId === null
        ? null
        : {
            id: e.executionId,
            sequence: e.sequence,
            status: n.execution?.status ?? null,
            ...(full
              ? {
                  statusSummary: n.execution?.statusSummary ?? null,
                  trigger: {
                    type: n.execution?.triggerType ?? null,
                    detail: n.execution?.triggerDetail ?? null,
                  },
                  sourceRevisions: n.execution?.sourceRevisions ?? [],
                  branches: n.execution?.branches ?? [],
                }
              : {}),
          },
    stage: e.stageName ?? null,
    action: e.actionName ? { name: e.actionName, actionExecutionId: e.actionExecutionId ?? null } : null,
    status: e.status ?? null,
    by: e.by ?? null,
    rule: { id: n.rule.id, name: n.rule.name },
  };
}

/** The lines every human-readable target shows: status, revision, who, link. */
export function summaryLines(n: Notification, link: string): string[] {
  const lines = [statusMessage(n)];
  const revision = revisionLine(n);
  if (revision) lines.push(`Revision: ${revision}`);
  if (n.rule.detailLevel === "FULL" && n.execution?.statusSummary)
    lines.push(`Summary: ${n.execution.statusSummary}`);
  const who =
    n.event.by ??
    (n.execution?.triggerType
      ? `${n.execution.triggerType}${n.execution.triggerDetail ? ` (${n.execution.triggerDetail})` : ""}`
      : null);
  if (who) lines.push(`By: ${who}`);
  lines.push(link);
  return lines;
}

/**
 * A Slack incoming-webhook body. Mattermost and Rocket.Chat incoming webhooks take the same `text`
 * field; the bare URL on its own line is made a link by all three.
 */
export function slackBody(n: Notification, link: string): Record<string, unknown> {
  return { text: summaryLines(n, link).join("\n") };
}

/** A Microsoft Teams (Workflows) incoming-webhook body: one Adaptive Card with an "Open" button. */
export function teamsBody(n: Notification, link: string): Record<string, unknown> {
  const [title, ...rest] = summaryLines(n, link).slice(0, -1);
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", text: title, weight: "Bolder", wrap: true },
            ...rest.map((text) => ({ type: "TextBlock", text, wrap: true, isSubtle: true })),
          ],
          actions: [{ type: "Action.OpenUrl", title: "Open in Sluice", url: link }],
        },
      },
    ],
  };
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

/** The e-mail: subject, plain text and HTML, each with the link to the dashboard page. */
export function emailContent(n: Notification, link: string): { subject: string; text: string; html: string } {
  const lines = summaryLines(n, link);
  const [title, ...rest] = lines.slice(0, -1);
  const html = [
    `<p><strong>${escapeHtml(title!)}</strong></p>`,
    ...rest.map((line) => `<p>${escapeHtml(line)}</p>`),
    `<p><a href="${escapeHtml(link)}">Open in Sluice</a></p>`,
    `<p style="color:#666;font-size:12px">Rule ${escapeHtml(n.rule.name)} · message ${escapeHtml(n.id)}</p>`,
  ].join("\n");
  const text = `${lines.join("\n")}\n\n-- \nRule ${n.rule.name} · message ${n.id}\n`;
  return { subject: `[Sluice] ${title}`, text, html };
}

/**
 * The e-mail to a user allowed to approve (docs/notifications.md): the pipeline, stage and action,
 * the approval's CustomData and ExternalEntityLink, the revisions, and the link that opens the
 * approval in the dashboard.
 */
export function approverEmailContent(
  n: Notification,
  link: string,
  recipient: string,
): { subject: string; text: string; html: string } {
  const e = n.event;
  const facts: Array<[string, string]> = [
    ["Pipeline", e.pipelineName],
    ["Stage", e.stageName ?? ""],
    ["Action", e.actionName ?? ""],
  ];
  if (e.executionId) facts.push(["Execution", e.executionId]);
  const revision = revisionLine(n);
  if (revision) facts.push(["Revision", revision]);
  if (n.approval?.customData) facts.push(["Note", n.approval.customData]);
  if (n.approval?.externalEntityLink) facts.push(["Review at", n.approval.externalEntityLink]);
  const why = `You receive this because user ${recipient} may approve it (sluice:PutApprovalResult).`;
  const title = statusMessage(n);
  const text = [
    title,
    "",
    ...facts.map(([k, v]) => `${k}: ${v}`),
    "",
    `Approve or reject: ${link}`,
    "",
    "-- ",
    why,
    `Rule ${n.rule.name} · message ${n.id}`,
    "",
  ].join("\n");
  const reviewLink = safeHttpLink(n.approval?.externalEntityLink ?? null);
  const html = [
    `<p><strong>${escapeHtml(title)}</strong></p>`,
    "<table>",
    ...facts.map(([k, v]) => {
      const value =
        k === "Review at" && reviewLink
          ? `<a href="${escapeHtml(reviewLink)}">${escapeHtml(v)}</a>`
          : escapeHtml(v).replace(/\n/g, "<br>");
      return `<tr><th align="left">${escapeHtml(k)}</th><td>${value}</td></tr>`;
    }),
    "</table>",
    `<p><a href="${escapeHtml(link)}">Approve or reject in Sluice</a></p>`,
    `<p style="color:#666;font-size:12px">${escapeHtml(why)}<br>Rule ${escapeHtml(n.rule.name)} · message ${escapeHtml(n.id)}</p>`,
  ].join("\n");
  const subject = `[Sluice] Approval needed: ${e.pipelineName} / ${e.stageName ?? ""} / ${e.actionName ?? ""}`;
  return { subject: subject.replace(/[\r\n]+/g, " "), text, html };
}

/** Only http(s) links become anchors (a `javascript:` ExternalEntityLink stays text). */
function safeHttpLink(value: string | null): string | null {
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

/** `Sluice-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export function signature(secret: string, unixSeconds: number, body: string): string {
  const mac = crypto.createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * How long to wait before attempt `attempt + 1` after `attempt` failed: exponential from
 * `baseMs`, capped, with "full jitter" in its upper half so that many failed deliveries do not
 * come back at once. `random` is in [0, 1).
 */
export function retryDelayMs(attempt: number, baseMs: number, capMs: number, random: number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}
