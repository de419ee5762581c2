"use client";

import Link from "next/link";
import { useMemo, useState } from "react";
import { useLiveQuery } from "@/components/live";
import { revisionOf } from "@/components/revision";
import { Status, statusTone } from "@/components/Status";
import { formatAgo, useNow } from "@/components/time";
import { WaitingList } from "@/components/waiting";
import { graphql } from "@/gql";

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
      pipelineName
      type
      at
    }
  }
`);

/** Every pipeline: its stages' latest runs as coloured segments (with icon and text), latest revision, last change. */
export function PipelinesList() {
  const [search, setSearch] = useState("");
  const [{ data, error }] = useLiveQuery({
    query: PIPELINES,
    variables: {},
    subscription: ALL_PIPELINE_EVENTS,
    subscriptionVariables: {},
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
