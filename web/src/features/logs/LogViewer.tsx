"use client";

import Anser from "anser";
import Link from "next/link";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useClient, useQuery } from "urql";
import { useSession } from "@/components/Providers";
import { Status } from "@/components/Status";
import { graphql } from "@/gql";
import type { ActionLogPageQuery } from "@/gql/graphql";

const LOG_PAGE = graphql(`
  query ActionLogPage($id: ID!, $after: Int) {
    actionLog(actionExecutionId: $id, after: $after, first: 5000) {
      nodes {
        sequence
        stream
        text
        at
      }
      endCursor
      hasNextPage
      complete
    }
  }
`);

const LOG_FOLLOW = graphql(`
  subscription ActionLogFollow($id: ID!, $after: Int) {
    actionLog(actionExecutionId: $id, after: $after) {
      sequence
      stream
      text
      at
    }
  }
`);

const LOG_ACTION = graphql(`
  query LogAction($id: ID!) {
    pipelineExecution(id: $id) {
      id
      pipelineName
      stages {
        name
        actions {
          id
          name
          status
        }
      }
    }
  }
`);

type LogLine = ActionLogPageQuery["actionLog"]["nodes"][number];

const ERROR = /\b(error|fatal|failed|exception|panic)\b/i;

/** Stored pages of the log, then new lines as the agent sends them; lines are kept in sequence order, once each. */
function useActionLog(actionExecutionId: string) {
  const client = useClient();
  const { reconnects } = useSession();
  const [lines, setLines] = useState<LogLine[]>([]);
  const [complete, setComplete] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const last = useRef(0);

  const append = useCallback((more: LogLine[]) => {
    const fresh = more.filter((l) => l.sequence > last.current);
    if (fresh.length === 0) return;
    last.current = fresh[fresh.length - 1]!.sequence;
    setLines((previous) => previous.concat(fresh));
  }, []);

  useEffect(() => {
    let cancelled = false;
    let unsubscribe: (() => void) | null = null;
    (async () => {
      for (;;) {
        const page = await client
          .query(LOG_PAGE, { id: actionExecutionId, after: last.current }, { requestPolicy: "network-only" })
          .toPromise();
        if (cancelled) return;
        if (page.error || !page.data) return setError(page.error?.message ?? "The log could not be read.");
        append(page.data.actionLog.nodes);
        if (page.data.actionLog.hasNextPage) continue;
        if (page.data.actionLog.complete) return setComplete(true);
        break;
      }
      const subscription = client
        .subscription(LOG_FOLLOW, { id: actionExecutionId, after: last.current })
        .subscribe((result) => {
          if (result.error) setError(result.error.message);
          else if (result.data) append([result.data.actionLog]);
        });
      unsubscribe = () => subscription.unsubscribe();
    })();
    return () => {
      cancelled = true;
      unsubscribe?.();
    };
    // reconnects: after a lost connection, read what was missed and follow again
  }, [client, actionExecutionId, append, reconnects]);

  return { lines, complete, error };
}

/** A line's text with its ANSI colours as classes (the palette is in the stylesheet). */
function AnsiText({ text }: { text: string }) {
  const parts = useMemo(() => Anser.ansiToJson(text, { use_classes: true, remove_empty: true }), [text]);
  return (
    <>
      {parts.map((part, i) => {
        const classes = [
          part.fg ? `${part.fg}-fg` : "",
          part.bg ? `${part.bg}-bg` : "",
          ...part.decorations.map((d) => `ansi-${d}`),
        ].filter(Boolean);
        return classes.length ? (
          <span key={i} className={classes.join(" ")}>
            {part.content}
          </span>
        ) : (
          part.content
        );
      })}
    </>
  );
}

/** The live log of one action execution: follows new lines, ANSI colours, search, first error, download. */
export function LogViewer({
  executionId,
  actionExecutionId,
}: {
  executionId: string;
  actionExecutionId: string;
}) {
  const { lines, complete, error } = useActionLog(actionExecutionId);
  const [{ data }, refetchAction] = useQuery({ query: LOG_ACTION, variables: { id: executionId } });
  const [follow, setFollow] = useState(true);
  const [search, setSearch] = useState("");
  const box = useRef<HTMLDivElement>(null);
  const execution = data?.pipelineExecution;
  const stage = execution?.stages.find((s) => s.actions.some((a) => a.id === actionExecutionId));
  const action = stage?.actions.find((a) => a.id === actionExecutionId);

  useEffect(() => {
    if (complete) refetchAction({ requestPolicy: "network-only" });
  }, [complete, refetchAction]);
  useEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [lines, follow]);

  const needle = search.trim().toLowerCase();
  const matches = useMemo(
    () => (needle ? lines.filter((l) => l.text.toLowerCase().includes(needle)).map((l) => l.sequence) : []),
    [lines, needle],
  );
  const firstError = useMemo(() => lines.find((l) => ERROR.test(l.text))?.sequence, [lines]);
  const [matchIndex, setMatchIndex] = useState(0);

  const jumpTo = (sequence: number | undefined) => {
    if (sequence === undefined) return;
    setFollow(false);
    const line = document.getElementById(`L${sequence}`);
    line?.scrollIntoView({ block: "center" });
    line?.focus();
  };
  const download = () => {
    const text = lines.map((l) => Anser.ansiToText(l.text)).join("\n") + "\n";
    const url = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = `${action?.name ?? "action"}-${actionExecutionId.slice(0, 8)}.log`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };

  return (
    <>
      <div className="page-head">
        <div>
          <h1>
            Logs of{" "}
            {action ? `${stage?.name} / ${action.name}` : <code>{actionExecutionId.slice(0, 8)}</code>}
          </h1>
          <p className="muted small">
            {execution ? (
              <>
                <Link href={`/pipelines/${encodeURIComponent(execution.pipelineName)}`}>
                  {execution.pipelineName}
                </Link>{" "}
                ·{" "}
              </>
            ) : null}
            <Link href={`/executions/${executionId}`}>Execution {executionId.slice(0, 8)}</Link>
          </p>
        </div>
        {action ? <Status status={action.status} /> : null}
      </div>
      <div className="log-tools">
        <div className="field-inline">
          <label htmlFor="log-search">Search</label>
          <input
            id="log-search"
            type="search"
            value={search}
            onChange={(e) => {
              setSearch(e.target.value);
              setMatchIndex(0);
            }}
          />
        </div>
        <span aria-live="polite" className="small">
          {needle ? `${matches.length} matching line${matches.length === 1 ? "" : "s"}` : ""}
        </span>
        <button
          type="button"
          disabled={matches.length === 0}
          onClick={() => {
            jumpTo(matches[matchIndex % matches.length]);
            setMatchIndex((i) => i + 1);
          }}
        >
          Next match
        </button>
        <button type="button" disabled={firstError === undefined} onClick={() => jumpTo(firstError)}>
          Jump to first error
        </button>
        <label className="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow new
          lines
        </label>
        <button type="button" onClick={download} disabled={lines.length === 0}>
          Download
        </button>
      </div>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <p className="small muted" role="status">
        {lines.length} line{lines.length === 1 ? "" : "s"}
        {complete ? " · complete" : " · following"}
      </p>
      <div ref={box} className="log" tabIndex={0} role="region" aria-label="Log lines">
        <ol>
          {lines.map((line) => {
            const hit = needle && line.text.toLowerCase().includes(needle);
            return (
              <li
                key={line.sequence}
                id={`L${line.sequence}`}
                tabIndex={-1}
                className={`log-line log-${line.stream}${hit ? " log-match" : ""}${line.sequence === firstError ? " log-error" : ""}`}
              >
                <span className="log-seq" aria-hidden="true">
                  {line.sequence}
                </span>
                <span className="log-text">
                  <AnsiText text={line.text} />
                </span>
              </li>
            );
          })}
        </ol>
      </div>
    </>
  );
}
