"use client";

import Link from "next/link";
import { usePathname, useSearchParams } from "next/navigation";
import { useMemo, useState } from "react";
import { REFETCH, useLiveQuery, type LiveApply } from "@/components/live";
import { applyToExecution } from "@/components/live-apply";
import { Pager } from "@/components/Pager";
import { revisionOf } from "@/components/revision";
import { Status } from "@/components/Status";
import { elapsed, formatDuration, formatTime, useNow } from "@/components/time";
import { graphql } from "@/gql";
import type {
  PipelineExecutionStatus,
  PipelineHistoryQuery,
  PipelineViewEventsSubscription,
} from "@/gql/graphql";
import { PIPELINE_EVENTS } from "../pipeline/queries";
import { DurationChart } from "./DurationChart";

const PAGE_SIZE = 20;
const CHART_SIZE = 30;
const STATUSES: PipelineExecutionStatus[] = [
  "InProgress",
  "Stopping",
  "Stopped",
  "Succeeded",
  "Superseded",
  "Failed",
  "Cancelled",
];

const HISTORY = graphql(`
  query PipelineHistory(
    $name: String!
    $first: Int!
    $after: String
    $status: [PipelineExecutionStatus!]
    $chart: Int!
  ) {
    pipeline(name: $name) {
      id
      name
      executions(first: $first, after: $after, status: $status) {
        nodes {
          id
          sequence
          status
          statusSummary
          startTime
          endTime
          pipelineVersion
          trigger {
            triggerType
            triggerDetail
          }
          sourceRevisions {
            actionName
            revisionId
            revisionSummary
            revisionUrl
          }
          stages {
            name
            actions {
              name
              outputVariables
            }
          }
        }
        pageInfo {
          endCursor
          hasNextPage
        }
      }
      recent: executions(first: $chart) {
        nodes {
          id
          status
          startTime
          endTime
        }
      }
    }
  }
`);

/** The status filter of a query string: one of STATUSES, or "" (all) for none or any other value. */
function statusFilter(params: { get(name: string): string | null }): PipelineExecutionStatus | "" {
  const value = params.get("status");
  return STATUSES.find((s) => s === value) ?? "";
}

/**
 * /pipelines/[name]/executions: every execution, newest first, by pages of 20, filtered by status
 * (`?status=Failed`: in the address, so that a filtered page can be linked or reloaded and Back
 * and Forward go through the filters chosen); above it the durations of the last 30 as a chart.
 * Live: events (pipelineEvents) update the rows; a new execution fetches the page again.
 */
export function HistoryView({ name }: { name: string }) {
  const pathname = usePathname();
  const searchParams = useSearchParams();
  const status = statusFilter(searchParams);
  // Cursors of the pages before the current one (going back pops), for the filter they were
  // reached with: another filter (chosen here, or by Back / Forward) starts at the first page.
  const [paging, setPaging] = useState<{ status: string; cursors: string[] }>({
    status,
    cursors: [],
  });
  const cursors = paging.status === status ? paging.cursors : [];
  const setCursors = (recipe: (current: string[]) => string[]) =>
    setPaging({ status, cursors: recipe(cursors) });
  const chooseStatus = (next: string) => {
    const params = new URLSearchParams(searchParams.toString());
    if (next) params.set("status", next);
    else params.delete("status");
    const query = params.toString();
    // The browser's own history entry (Next follows it in useSearchParams): the filter is the
    // client's business, so no server round trip, and the page's metadata (its <title>) stays.
    window.history.pushState(null, "", query ? `${pathname}?${query}` : pathname);
  };
  const after = cursors.length > 0 ? cursors[cursors.length - 1]! : null;
  // Events change the rows they are about (status, summary, end, the revision a source found); a
  // new execution, or a row leaving the status filter, fetches the page again.
  const live = useMemo(() => historyLive(status), [status]);
  const [{ data, error, fetching }] = useLiveQuery({
    query: HISTORY,
    variables: { name, first: PAGE_SIZE, after, status: status ? [status] : null, chart: CHART_SIZE },
    subscription: PIPELINE_EVENTS,
    subscriptionVariables: { name },
    live,
  });
  const pipeline = data?.pipeline;
  const executions = pipeline?.executions.nodes ?? [];
  const running = executions.some((e) => !e.endTime);
  const now = useNow(1000, running);

  if (error && !data)
    return (
      <p role="alert" className="error">
        {error.message}
      </p>
    );
  if (!data) return <p className="muted">Loading…</p>;
  if (!pipeline)
    return (
      <p role="alert" className="error">
        There is no pipeline named “{name}”.
      </p>
    );
  const path = `/pipelines/${encodeURIComponent(pipeline.name)}`;

  return (
    <>
      <div className="page-head">
        <div>
          <h1>History of {pipeline.name}</h1>
          <p className="muted small">
            <Link href={path}>Pipeline</Link> · <Link href={`${path}/edit`}>Edit</Link>
          </p>
        </div>
      </div>

      <section aria-labelledby="trend-heading">
        <h2 id="trend-heading">Duration trend</h2>
        <DurationChart executions={pipeline.recent.nodes} />
      </section>

      <section aria-labelledby="executions-heading">
        <div className="page-head">
          <h2 id="executions-heading">Executions</h2>
          <div className="field-inline">
            <label htmlFor="status-filter">Status</label>
            <select id="status-filter" value={status} onChange={(e) => chooseStatus(e.target.value)}>
              <option value="">All</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s === "InProgress" ? "In progress" : s}
                </option>
              ))}
            </select>
          </div>
        </div>
        {executions.length === 0 ? (
          <p className="muted">{status ? "No execution has this status." : "No execution yet."}</p>
        ) : (
          <div className="table-wrap">
            <table className="table" aria-busy={fetching}>
              <caption className="visually-hidden">
                Executions of {pipeline.name}, newest first{status ? `, with status ${status}` : ""}, page{" "}
                {cursors.length + 1}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Status</th>
                  <th scope="col">Execution</th>
                  <th scope="col">Trigger</th>
                  <th scope="col">Revisions</th>
                  <th scope="col">Started</th>
                  <th scope="col">Duration</th>
                </tr>
              </thead>
              <tbody>
                {executions.map((e) => {
                  const fallback = e.sourceRevisions.length === 0 ? revisionOf(e) : null;
                  return (
                    <tr key={e.id} data-execution={e.id}>
                      <td>
                        <Status status={e.status} />
                        {e.statusSummary ? <div className="muted small">{e.statusSummary}</div> : null}
                      </td>
                      <td>
                        <Link href={`/executions/${e.id}`}>{e.id.slice(0, 8)}</Link>
                        <div className="muted small">version {e.pipelineVersion}</div>
                      </td>
                      <td>
                        {e.trigger.triggerType}
                        {e.trigger.triggerDetail ? (
                          <div className="muted small">{e.trigger.triggerDetail}</div>
                        ) : null}
                      </td>
                      <td>
                        {e.sourceRevisions.map((r) => (
                          <div key={r.actionName}>
                            <span className="muted">{r.actionName}:</span>{" "}
                            {r.revisionUrl ? (
                              <a href={r.revisionUrl}>
                                <code>{r.revisionId.slice(0, 8)}</code>
                              </a>
                            ) : (
                              <code title={r.revisionId}>{r.revisionId.slice(0, 8)}</code>
                            )}{" "}
                            {r.revisionSummary}
                          </div>
                        ))}
                        {fallback ? (
                          <>
                            <code title={fallback.id}>{fallback.id.slice(0, 8)}</code> {fallback.summary}
                          </>
                        ) : null}
                        {e.sourceRevisions.length === 0 && !fallback ? (
                          <span className="muted">–</span>
                        ) : null}
                      </td>
                      <td>
                        <time dateTime={e.startTime}>{formatTime(e.startTime)}</time>
                      </td>
                      <td>{formatDuration(elapsed(e.startTime, e.endTime, now) ?? 0)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <Pager
          label="Pages of executions"
          cursors={cursors}
          pageInfo={pipeline.executions.pageInfo}
          setCursors={setCursors}
        />
      </section>
    </>
  );
}

/** The history page's events applied to its rows and chart (components/live.ts). */
function historyLive(status: string): LiveApply<PipelineHistoryQuery, PipelineViewEventsSubscription> {
  return {
    event: (payload) => payload.pipelineEvents,
    sequences: (data) => (data.pipeline?.executions.nodes ?? []).map((e) => [e.id, e.sequence] as const),
    apply: (data, event) => {
      const pipeline = data.pipeline;
      if (!pipeline || !event.executionId) return data;
      const rows = pipeline.executions.nodes;
      const index = rows.findIndex((e) => e.id === event.executionId);
      const charted = pipeline.recent.nodes.findIndex((e) => e.id === event.executionId);
      if (index < 0 && charted < 0) return event.type === "EXECUTION_STARTED" ? REFETCH : data;
      let nodes = rows;
      if (index >= 0) {
        const row = applyToExecution(rows[index]!, event);
        if (row === REFETCH) return REFETCH;
        if (status && row.status !== status) return REFETCH; // it leaves the filtered list
        if (row !== rows[index]) {
          nodes = rows.slice();
          nodes[index] = row;
        }
      }
      let recent = pipeline.recent.nodes;
      if (charted >= 0) {
        const bar = applyToExecution(recent[charted]!, event);
        if (bar !== REFETCH && bar !== recent[charted]) {
          recent = recent.slice();
          recent[charted] = bar;
        }
      }
      if (nodes === rows && recent === pipeline.recent.nodes) return data;
      return {
        ...data,
        pipeline: {
          ...pipeline,
          executions: { ...pipeline.executions, nodes },
          recent: { ...pipeline.recent, nodes: recent },
        },
      };
    },
  };
}
