"use client";

import Link from "next/link";
import { useLiveQuery } from "@/components/live";
import { Status } from "@/components/Status";
import { formatAgo, useNow } from "@/components/time";
import { graphql } from "@/gql";
import { versionMismatch } from "./version";

const AGENTS = graphql(`
  query AgentsView {
    agentsV2(first: 100) {
      nodes {
        id
        name
        pool
        labels
        status
        capacity
        runningJobs
        running {
          jobId
          attempt
        }
        lastHeartbeat
        version
        protocolVersion
        revoked
      }
    }
    version {
      server
      protocol
    }
  }
`);

const AGENT_EVENTS = graphql(`
  subscription AgentsViewEvents {
    agentEvents {
      status
      agent {
        id
      }
    }
  }
`);

const WAITING_JOBS = graphql(`
  query JobsWaitingForAgents {
    pipelines(first: 100) {
      nodes {
        name
        executions(first: 10, status: [InProgress]) {
          nodes {
            id
            stages {
              name
              actions {
                name
                actionTypeId {
                  category
                  provider
                }
                waitingReason {
                  code
                  message
                  since
                }
              }
            }
          }
        }
      }
    }
  }
`);

const PIPELINE_CHANGES = graphql(`
  subscription WaitingJobsEvents {
    pipelineEvents {
      pipelineName
      type
    }
  }
`);

/** Actions dispatched to agents that no agent has taken yet (NO_AGENT, QUEUED), with the reason in words. */
function WaitingJobs() {
  const [{ data }] = useLiveQuery({
    query: WAITING_JOBS,
    variables: {},
    subscription: PIPELINE_CHANGES,
    subscriptionVariables: {},
    // Any change of a pipeline may start or end a wait (events arriving together: one fetch).
  });
  const now = useNow(5000);
  const waiting = (data?.pipelines.nodes ?? []).flatMap((p) =>
    p.executions.nodes.flatMap((e) =>
      e.stages.flatMap((stage) =>
        stage.actions
          .filter((a) => a.waitingReason && ["NO_AGENT", "QUEUED"].includes(a.waitingReason.code))
          .map((a) => ({
            pipeline: p.name,
            execution: e.id,
            stage: stage.name,
            action: a,
            reason: a.waitingReason!,
          })),
      ),
    ),
  );
  return (
    <section aria-labelledby="waiting-jobs">
      <h2 id="waiting-jobs">Waiting for an agent</h2>
      {waiting.length === 0 ? (
        <p className="muted">No action waits for an agent.</p>
      ) : (
        <ul className="waiting-list">
          {waiting.map((w) => (
            <li key={`${w.execution}/${w.stage}/${w.action.name}`} data-waiting={w.reason.code}>
              <Status status="Waiting" /> <Link href={`/executions/${w.execution}`}>{w.pipeline}</Link> ·{" "}
              {w.stage} · <strong>{w.action.name}</strong> ({w.action.actionTypeId.category}/
              {w.action.actionTypeId.provider}
              ), dispatched {formatAgo(w.reason.since, now)}: {w.reason.message}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Registered agents with pool, labels, status, running jobs and last heartbeat, live. */
export function AgentsView() {
  const [{ data, error }] = useLiveQuery({
    query: AGENTS,
    variables: {},
    subscription: AGENT_EVENTS,
    subscriptionVariables: {},
  });
  const now = useNow(1000);
  return (
    <>
      <h1>Agents</h1>
      {error ? (
        <p role="alert" className="error">
          {error.message}
        </p>
      ) : null}
      {!data && !error ? <p className="muted">Loading…</p> : null}
      {data && data.agentsV2.nodes.length === 0 ? <p className="muted">No agent has registered.</p> : null}
      {data && data.agentsV2.nodes.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Agents by pool and name</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Pool</th>
                <th scope="col">Labels</th>
                <th scope="col">Status</th>
                <th scope="col">Running jobs</th>
                <th scope="col">Last heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {data.agentsV2.nodes.map((agent) => (
                <tr key={agent.id} data-agent={agent.name}>
                  <th scope="row">
                    {agent.name}
                    <div className="muted small">v{agent.version}</div>
                    {versionMismatch(agent, data.version) ? (
                      <div className="error small" data-version-mismatch>
                        version differs: {versionMismatch(agent, data.version)}
                      </div>
                    ) : null}
                  </th>
                  <td>{agent.pool}</td>
                  <td>
                    {Object.entries(agent.labels).map(([k, v]) => (
                      <span key={k} className="tag">
                        {k}={String(v)}
                      </span>
                    ))}
                  </td>
                  <td>
                    <Status status={agent.status} />
                    {agent.revoked ? <div className="error small">token revoked</div> : null}
                  </td>
                  <td>
                    {agent.runningJobs} of {agent.capacity}
                    {agent.running.length > 0 ? (
                      <ul className="small">
                        {agent.running.map((job) => (
                          <li key={job.jobId}>
                            <code>{job.jobId.slice(0, 8)}</code> (attempt {job.attempt})
                          </li>
                        ))}
                      </ul>
                    ) : null}
                  </td>
                  <td>
                    <time dateTime={agent.lastHeartbeat}>{formatAgo(agent.lastHeartbeat, now)}</time>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <WaitingJobs />
    </>
  );
}
