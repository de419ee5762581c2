"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useCallback, useMemo, type FormEvent } from "react";
import { useQuery } from "urql";
import { useRefetchOnReconnect } from "@/components/live";
import { formatTime } from "@/components/time";
import { graphql } from "@/gql";

const PAGE_SIZE = 20;

const AUDIT_EVENTS = graphql(`
  query AuditEvents(
    $first: Int!
    $after: String
    $pipelineName: String
    $principal: String
    $operation: String
  ) {
    auditEvents(
      first: $first
      after: $after
      pipelineName: $pipelineName
      principal: $principal
      operation: $operation
    ) {
      nodes {
        id
        at
        principal
        operation
        pipelineName
        target
        arguments
        outcome
        error
        requestId
      }
      pageInfo {
        endCursor
        hasNextPage
      }
    }
  }
`);

/** The audit log's filters, each an exact match on the server; "" is no filter. */
export interface AuditFilters {
  pipelineName: string;
  principal: string;
  operation: string;
}

const FIELDS: Array<{ key: keyof AuditFilters; label: string }> = [
  { key: "pipelineName", label: "Pipeline" },
  { key: "principal", label: "Who" },
  { key: "operation", label: "Operation" },
];

/** /audit with these filters, at the page after `after` (the newest page without it). */
export function auditHref(filters: Partial<AuditFilters>, after?: string | null): string {
  const params = new URLSearchParams();
  for (const { key } of FIELDS) {
    const value = filters[key]?.trim();
    if (value) params.set(key, value);
  }
  if (after) params.set("after", after);
  const query = params.toString();
  return query ? `/audit?${query}` : "/audit";
}

/** ok, or the refusal's code: icon and text, never colour alone. */
function Outcome({ outcome }: { outcome: string }) {
  const ok = outcome === "ok";
  return (
    <span className={`status tone-${ok ? "ok" : "bad"}`}>
      <span aria-hidden="true" className="status-icon">
        {ok ? "✓" : "✕"}
      </span>{" "}
      {ok ? "Done" : outcome}
    </span>
  );
}

/** A target like executionId=… links to the execution; any other is shown as it is. */
function Target({ target }: { target: string | null | undefined }) {
  if (!target) return <span className="muted">–</span>;
  const execution = /^executionId=(.+)$/.exec(target);
  if (execution)
    return (
      <Link href={`/executions/${encodeURIComponent(execution[1]!)}`}>
        execution <code>{execution[1]!.slice(0, 8)}</code>
      </Link>
    );
  return <code className="audit-target">{target}</code>;
}

/**
 * /audit: every mutation, newest first, 20 a page, filtered by pipeline, principal and operation
 * (in the address, so a filtered view can be linked and Back works). Not live: there is no audit
 * subscription, so it has a Refresh button (and fetches again when the socket comes back).
 */
export function AuditView({ filters, after }: { filters: AuditFilters; after: string | null }) {
  const router = useRouter();
  const [{ data, error, fetching }, reexecute] = useQuery({
    query: AUDIT_EVENTS,
    variables: {
      first: PAGE_SIZE,
      after,
      pipelineName: filters.pipelineName || null,
      principal: filters.principal || null,
      operation: filters.operation || null,
    },
  });
  const refresh = useCallback(() => reexecute({ requestPolicy: "network-only" }), [reexecute]);
  useRefetchOnReconnect(refresh);
  const events = useMemo(() => data?.auditEvents.nodes ?? [], [data]);
  const filtered = FIELDS.some(({ key }) => filters[key]);
  // Suggestions for the filter fields: the values on this page.
  const seen = useMemo(
    () =>
      Object.fromEntries(
        FIELDS.map(({ key }) => [
          key,
          [...new Set(events.map((e) => e[key]).filter((v): v is string => !!v))].sort(),
        ]),
      ) as Record<keyof AuditFilters, string[]>,
    [events],
  );

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    router.push(auditHref(Object.fromEntries(FIELDS.map(({ key }) => [key, String(form.get(key) ?? "")]))));
  };

  return (
    <>
      <div className="page-head">
        <div>
          <h1>Audit log</h1>
          <p className="muted small">Every change made through the API, who made it and how it went.</p>
        </div>
        <div className="buttons">
          <button type="button" onClick={refresh} disabled={fetching}>
            Refresh
          </button>
        </div>
      </div>

      {/* Keyed on the address: Back and links reset the fields to the filters shown. */}
      <form
        key={auditHref(filters)}
        className="audit-filters"
        aria-label="Filter the audit log"
        onSubmit={submit}
      >
        {FIELDS.map(({ key, label }) => (
          <div className="field field-narrow" key={key}>
            <label htmlFor={`audit-${key}`}>{label}</label>
            <input
              id={`audit-${key}`}
              name={key}
              type="text"
              defaultValue={filters[key]}
              list={`audit-${key}-seen`}
              autoComplete="off"
              spellCheck={false}
            />
            <datalist id={`audit-${key}-seen`}>
              {seen[key].map((value) => (
                <option key={value} value={value} />
              ))}
            </datalist>
          </div>
        ))}
        <div className="buttons">
          <button type="submit" className="primary">
            Filter
          </button>
          {filtered ? (
            <Link className="button-link" href="/audit">
              Clear filters
            </Link>
          ) : null}
        </div>
      </form>
      <p className="hint">Each filter matches the whole value exactly.</p>

      {error ? (
        <p role="alert" className="error">
          {error.message}
        </p>
      ) : null}
      {!data && !error ? <p className="muted">Loading…</p> : null}
      {data && events.length === 0 ? (
        <p className="muted">
          {filtered ? "No change matches these filters." : after ? "No older change." : "No change yet."}
        </p>
      ) : null}
      {events.length > 0 ? (
        <div className="table-wrap">
          <table className="table audit" aria-busy={fetching}>
            <caption className="visually-hidden">
              Changes, newest first{after ? ", older page" : ""}
              {FIELDS.filter(({ key }) => filters[key])
                .map(({ key, label }) => `, ${label.toLowerCase()} ${filters[key]}`)
                .join("")}
            </caption>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Who</th>
                <th scope="col">Operation</th>
                <th scope="col">Pipeline</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
                <th scope="col">Arguments</th>
              </tr>
            </thead>
            <tbody>
              {events.map((e) => (
                <tr
                  key={e.id}
                  data-audit-event={e.id}
                  data-operation={e.operation}
                  data-pipeline={e.pipelineName ?? ""}
                >
                  <td>
                    <time dateTime={e.at}>{formatTime(e.at)}</time>
                  </td>
                  <td>{e.principal}</td>
                  <td>
                    <code>{e.operation}</code>
                  </td>
                  <td>
                    {e.pipelineName ? (
                      <Link
                        className="audit-pipeline"
                        href={`/pipelines/${encodeURIComponent(e.pipelineName)}`}
                      >
                        {e.pipelineName}
                      </Link>
                    ) : (
                      <span className="muted">–</span>
                    )}
                  </td>
                  <td>
                    <Target target={e.target} />
                  </td>
                  <td>
                    <Outcome outcome={e.outcome} />
                    {e.error ? <div className="audit-error small">{e.error}</div> : null}
                  </td>
                  <td>
                    <details>
                      <summary>
                        Arguments<span className="visually-hidden"> of {e.operation}</span>
                      </summary>
                      <pre className="audit-json">{JSON.stringify(e.arguments, null, 2)}</pre>
                      {e.requestId ? (
                        <p className="muted small">
                          Request <code>{e.requestId}</code>
                        </p>
                      ) : null}
                    </details>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <nav aria-label="Pages of the audit log" className="buttons">
        <button type="button" disabled={!after} onClick={() => router.push(auditHref(filters))}>
          Newest
        </button>
        <button
          type="button"
          disabled={!data?.auditEvents.pageInfo.hasNextPage}
          onClick={() => {
            const end = data?.auditEvents.pageInfo.endCursor;
            if (end) router.push(auditHref(filters, end));
          }}
        >
          Older
        </button>
      </nav>
    </>
  );
}
