"use client";

import Link from "next/link";
import { useMemo, useState } from "react";
import { REFETCH, useLiveQuery, type LiveApply, type LiveEvent } from "@/components/live";
import { applyToExecution } from "@/components/live-apply";
import { revisionOf } from "@/components/revision";
import { Status, statusTone } from "@/components/Status";
import { formatAgo, useNow } from "@/components/time";
import { WaitingList } from "@/components/waiting";
import { graphql } from "@/gql";
import type { AllPipelineEventsSubscription, PipelinesListQuery } from "@/gql/graphql";

const PIPELINES = graphql(`
  query PipelinesList {
    pipelines(first: 100) {
      nodes {
        id
        name
        lastActivityAt
        state {
          stages {
            name
            latestExecution {
              executionId
              status
            }
          }
        }
        executions(first: 1) {
          nodes {
            id
            sequence
            status
            startTime
            waitingReason {
              code
              message
            }
            sourceRevisions {
              actionName
              revisionId
              revisionSummary
            }
            stages {
              name
              actions {
                name
                outputVariables
                waitingReason {
                  code
                  message
                }
              }
            }
          }
        }
      }
    }
  }
`);

const ALL_PIPELINE_EVENTS = graphql(`
  subscription AllPipelineEvents {
    pipelineEvents {
      ...LiveChange
    }
  }
`);

type Listed = PipelinesListQuery["pipelines"]["nodes"][number];

/**
 * Events applied to the list (components/live.ts): the stages' latest runs, the latest
 * execution's status and revision, the last change. A new execution, one starting to wait and a
 * pipeline created, changed or deleted fetch the list again.
 */
const PIPELINES_LIVE: LiveApply<PipelinesListQuery, AllPipelineEventsSubscription> = {
  event: (payload) => payload.pipelineEvents,
  sequences: (data) =>
    data.pipelines.nodes.flatMap((p) => p.executions.nodes.map((e) => [e.id, e.sequence] as const)),
  apply: (data, event) => {
    if (event.type.startsWith("PIPELINE_")) return REFETCH;
    const nodes = data.pipelines.nodes;
    const index = nodes.findIndex((p) => p.name === event.pipelineName);
    if (index < 0) return data;
    const next = applyToListed(nodes[index]!, event);
    if (next === REFETCH) return REFETCH;
    const copy = nodes.slice();
    copy[index] = next;
    return { ...data, pipelines: { ...data.pipelines, nodes: copy } };
  },
};

function applyToListed(pipeline: Listed, event: LiveEvent): Listed | typeof REFETCH {
  let next: Listed = event.at ? { ...pipeline, lastActivityAt: event.at } : pipeline;
  const id = event.executionId;
  if (!id) return next;
  const latest = pipeline.executions.nodes[0];
  if (latest?.id === id) {
    const execution = applyToExecution(latest, event);
    if (execution === REFETCH) return REFETCH;
    next = { ...next, executions: { ...next.executions, nodes: [execution] } };
  } else if (event.type === "EXECUTION_STARTED") {
    return REFETCH; // a newer execution: its revisions are not in the event
  }
  if (event.type.startsWith("STAGE_") && event.status) {
    const entered = event.type === "STAGE_STARTED" || event.type === "STAGE_RESUMED";
    const stages = next.state.stages.map((stage) => {
      if (stage.name !== event.stageName) return stage;
      const pointer = stage.latestExecution;
      if (!entered && pointer?.executionId !== id) return stage;
      return { ...stage, latestExecution: { ...pointer, executionId: id, status: event.status as never } };
    });
    next = { ...next, state: { ...next.state, stages } };
  }
  return next;
}

/** Every pipeline: its stages' latest runs as coloured segments (with icon and text), latest revision, last change. */
export function PipelinesList() {
  const [search, setSearch] = useState("");
  const [{ data, error }] = useLiveQuery({
    query: PIPELINES,
    variables: {},
    subscription: ALL_PIPELINE_EVENTS,
    subscriptionVariables: {},
    live: PIPELINES_LIVE,
  });
  const now = useNow(5000);
  const pipelines = useMemo(() => {
    const needle = search.trim().toLowerCase();
    return (data?.pipelines.nodes ?? []).filter((p) => p.name.toLowerCase().includes(needle));
  }, [data, search]);

  return (
    <>
      <div className="page-head">
        <h1>Pipelines</h1>
        <Link className="button-link primary" href="/new">
          New pipeline
        </Link>
        <div className="field-inline">
          <label htmlFor="pipeline-search">Search by name</label>
          <input
            id="pipeline-search"
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            autoComplete="off"
          />
        </div>
      </div>
      {error ? (
        <p role="alert" className="error">
          {error.message}
        </p>
      ) : null}
      {!data && !error ? <p className="muted">Loading…</p> : null}
      {data && pipelines.length === 0 ? (
        <p className="muted">{search ? `No pipeline name contains “${search}”.` : "No pipelines yet."}</p>
      ) : null}
      {pipelines.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Pipelines, the most recently active first</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Stages</th>
                <th scope="col">Latest revision</th>
                <th scope="col">Last change</th>
              </tr>
            </thead>
            <tbody>
              {pipelines.map((p) => {
                const latest = p.executions.nodes[0];
                const revision = revisionOf(latest);
                return (
                  <tr key={p.id}>
                    <th scope="row">
                      <Link href={`/pipelines/${encodeURIComponent(p.name)}`}>{p.name}</Link>
                      <div className="row-links small">
                        <Link href={`/pipelines/${encodeURIComponent(p.name)}/executions`}>
                          History<span className="visually-hidden"> of {p.name}</span>
                        </Link>
                        <Link href={`/pipelines/${encodeURIComponent(p.name)}/edit`}>
                          Edit<span className="visually-hidden"> {p.name}</span>
                        </Link>
                        <Link href={`/new?from=${encodeURIComponent(p.name)}`}>
                          Copy<span className="visually-hidden"> {p.name}</span>
                        </Link>
                      </div>
                    </th>
                    <td>
                      <ol className="segments" aria-label={`Stages of ${p.name}`}>
                        {p.state.stages.map((s) => (
                          <li
                            key={s.name}
                            className={`segment tone-${statusTone(s.latestExecution?.status)}`}
                          >
                            <span className="segment-name">{s.name}</span>
                            <Status status={s.latestExecution?.status} />
                          </li>
                        ))}
                      </ol>
                      {latest?.status === "InProgress" ? (
                        <WaitingList execution={latest} label={`Why ${p.name} waits`} />
                      ) : null}
                    </td>
                    <td>
                      {revision ? (
                        <>
                          <code title={revision.id}>{revision.id.slice(0, 8)}</code>{" "}
                          <span className="muted">{revision.summary ?? ""}</span>
                        </>
                      ) : (
                        <span className="muted">No release yet</span>
                      )}
                    </td>
                    <td>
                      <time dateTime={p.lastActivityAt}>{formatAgo(p.lastActivityAt, now)}</time>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
