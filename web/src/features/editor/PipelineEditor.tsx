"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useMemo, useState } from "react";
import { useClient, useMutation } from "urql";
import { formatAgo } from "@/components/time";
import { ActionFields } from "./ActionFields";
import {
  anchorOf,
  artifactsBefore,
  describeAnchor,
  emptyAction,
  emptySchedule,
  emptyStage,
  emptyVariable,
  EXECUTION_MODES,
  fieldId,
  maskSecrets,
  toDocument,
  toDraft,
  typeKey,
  typeLabel,
  typeRef,
  unmaskSecrets,
  type ActionTypeInfo,
  type Draft,
  type Issue,
} from "./draft";
import { Field, InputField, IssueList } from "./Field";
import { CREATE_PIPELINE, PIPELINE_VERSION, saveFailure, UPDATE_PIPELINE } from "./queries";

export type EditorMode =
  { kind: "create"; copiedFrom?: string } | { kind: "edit"; name: string; version: number; onReload(): void };

interface Conflict {
  version: number;
  by: string;
  at: string;
}

/** Moves focus to a field once React has rendered it. */
function focusSoon(id: string) {
  requestAnimationFrame(() => document.getElementById(id)?.focus());
}

/**
 * The pipeline editor: stages (add, remove, rename, reorder) and their actions (add, edit, remove)
 * as forms generated from the action types, or the whole document as JSON. Saving creates the
 * pipeline (createPipelineV2) or writes a new version (updatePipelineV2 with the version it started
 * from); the server's validation errors show at the fields they concern, and a version written
 * meanwhile by someone else is a conflict the person resolves.
 */
export function PipelineEditor(props: { mode: EditorMode; initial: Draft; types: ActionTypeInfo[] }) {
  const { mode, types } = props;
  const router = useRouter();
  const client = useClient();
  const [draft, setDraft] = useState(props.initial);
  const [view, setView] = useState<"form" | "json">("form");
  const [json, setJson] = useState("");
  const [jsonError, setJsonError] = useState<string | null>(null);
  const [open, setOpen] = useState<Set<string>>(
    () => new Set(mode.kind === "create" ? draft.stages.flatMap((s) => s.actions.map((a) => a.key)) : []),
  );
  const [issues, setIssues] = useState<Issue[]>([]);
  const [failure, setFailure] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [version, setVersion] = useState(mode.kind === "edit" ? mode.version : 0);
  const [created, create] = useMutation(CREATE_PIPELINE);
  const [updated, update] = useMutation(UPDATE_PIPELINE);
  const busy = created.fetching || updated.fetching;

  const typesByKey = useMemo(() => new Map(types.map((t) => [typeKey(t.id), t])), [types]);
  const byAnchor = useMemo(() => {
    const map = new Map<string, Issue[]>();
    for (const issue of issues) {
      const anchor = anchorOf(issue.path, draft);
      map.set(anchor, [...(map.get(anchor) ?? []), issue]);
    }
    return map;
  }, [issues, draft]);
  const issuesAt = (anchor: string) => byAnchor.get(anchor);

  /** Field edits keep the problems shown (the person is fixing them); structural edits drop them (their paths move). */
  const change = (recipe: (d: Draft) => void, structural = false) => {
    setDraft((current) => {
      const next = structuredClone(current);
      recipe(next);
      return next;
    });
    setNotice(null);
    if (structural) setIssues([]);
  };
  const toggle = (key: string, to?: boolean) =>
    setOpen((current) => {
      const next = new Set(current);
      if (to ?? !next.has(key)) next.add(key);
      else next.delete(key);
      return next;
    });

  const defaultType = (stageIndex: number) =>
    (types.find((t) =>
      stageIndex === 0
        ? t.id.category === "Source" && t.id.provider === "Git"
        : t.id.category === "Build" && t.id.provider === "Shell",
    ) ?? types[0])!.id;

  /** The draft the JSON view holds, or an error sentence. */
  const fromJson = (): Draft | string => {
    try {
      return unmaskSecrets(toDraft(JSON.parse(json)), draft);
    } catch (error) {
      return `The JSON view does not hold a pipeline document: ${(error as Error).message}`;
    }
  };
  const showJson = () => {
    setJson(JSON.stringify(maskSecrets(toDocument(draft).document, typesByKey), null, 2));
    setJsonError(null);
    setView("json");
  };
  const showForm = () => {
    const next = fromJson();
    if (typeof next === "string") return setJsonError(next);
    setDraft(next);
    setIssues([]);
    setView("form");
  };

  /** Shows problems at their fields, opening the actions they are in, and says how many there are. */
  const showIssues = (found: Issue[], shown: Draft) => {
    setIssues(found);
    const keys = new Set<string>();
    for (const issue of found) {
      const m = /^stages\[(\d+)\]\.actions\[(\d+)\]/.exec(issue.path);
      const key = m ? shown.stages[Number(m[1])]?.actions[Number(m[2])]?.key : undefined;
      if (key) keys.add(key);
    }
    setOpen((current) => new Set([...current, ...keys]));
    if (view === "json") setView("form");
    focusSoon("editor-problems");
  };

  const save = async (overVersion?: number) => {
    setFailure(null);
    setNotice(null);
    let current = draft;
    if (view === "json") {
      const parsed = fromJson();
      if (typeof parsed === "string") return setJsonError(parsed);
      current = parsed;
      setDraft(parsed);
    }
    const { document, issues: local } = toDocument(current);
    if (mode.kind === "edit" && document.name !== mode.name)
      local.push({
        path: "name",
        message: `An existing pipeline keeps its name (${mode.name}); copy it to give it a new one.`,
      });
    if (local.length > 0) return showIssues(local, current);

    if (mode.kind === "create") {
      const result = await create({ input: document as never });
      if (!result.error && result.data) {
        router.push(`/pipelines/${encodeURIComponent(result.data.createPipelineV2.pipeline.name)}`);
        return;
      }
      return fail(result.error!, current);
    }
    const result = await update({ input: document as never, expectedVersion: overVersion ?? version });
    if (!result.error && result.data) {
      const saved = result.data.updatePipelineV2.pipeline;
      setVersion(saved.version);
      setIssues([]);
      setConflict(null);
      setNotice(
        saved.version === version ? "Nothing changed: no new version." : `Saved as version ${saved.version}.`,
      );
      return;
    }
    return fail(result.error!, current);
  };

  const fail = async (error: Parameters<typeof saveFailure>[0], shown: Draft) => {
    const found = saveFailure(error);
    if (found.code === "CONFLICT" && mode.kind === "edit") {
      const latest = await client
        .query(PIPELINE_VERSION, { name: mode.name }, { requestPolicy: "network-only" })
        .toPromise();
      const p = latest.data?.pipeline;
      if (!p) return setFailure(`${mode.name} no longer exists: it was deleted while you edited it.`);
      // The server refused the version before validating anything: earlier problems no longer apply.
      setIssues([]);
      setConflict({ version: p.version, by: p.versionCreatedBy, at: p.versionCreatedAt });
      focusSoon("editor-conflict");
      return;
    }
    if (found.issues.length > 0) return showIssues(found.issues, shown);
    setFailure(found.message);
  };

  const title =
    mode.kind === "edit" ? `Edit ${mode.name}` : mode.copiedFrom ? `Copy ${mode.copiedFrom}` : "New pipeline";

  return (
    <form
      className="editor"
      noValidate
      aria-busy={busy}
      onFocus={(e) => keepAboveSaveBar(e.target, e.currentTarget)}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <div className="page-head">
        <div>
          <h1>{title}</h1>
          {mode.kind === "edit" ? (
            <p className="muted small">
              Editing from version {version} ·{" "}
              <Link href={`/pipelines/${encodeURIComponent(mode.name)}`}>Back to the pipeline</Link>
            </p>
          ) : null}
        </div>
        <div className="buttons" role="group" aria-label="View">
          <button type="button" aria-pressed={view === "form"} onClick={() => view === "json" && showForm()}>
            Form
          </button>
          <button type="button" aria-pressed={view === "json"} onClick={() => view === "form" && showJson()}>
            JSON
          </button>
        </div>
      </div>

      {conflict && mode.kind === "edit" ? (
        <div id="editor-conflict" className="conflict" role="alert" tabIndex={-1}>
          <p>
            <strong>
              {mode.name} changed while you were editing it: version {conflict.version} was saved by{" "}
              {conflict.by} {formatAgo(conflict.at, Date.now())}.
            </strong>{" "}
            You started from version {version}. Your changes are not saved; they are still here.
          </p>
          <div className="buttons">
            <button type="button" onClick={mode.onReload}>
              Load version {conflict.version} (drop my changes)
            </button>
            <button
              type="button"
              className="danger"
              disabled={busy}
              onClick={() => void save(conflict.version)}
            >
              Save mine over version {conflict.version}
            </button>
          </div>
        </div>
      ) : null}

      {issues.length > 0 ? (
        <div id="editor-problems" className="problems" role="alert" tabIndex={-1}>
          <h2>
            {issues.length === 1 ? "1 problem stops" : `${issues.length} problems stop`} this pipeline from
            saving
          </h2>
          <ul>
            {issues.map((issue, i) => {
              const anchor = anchorOf(issue.path, draft);
              return (
                <li key={i}>
                  {anchor ? (
                    <a
                      href={`#${fieldId(anchor)}`}
                      onClick={(e) => {
                        e.preventDefault();
                        document.getElementById(fieldId(anchor))?.focus();
                      }}
                    >
                      {describeAnchor(anchor, draft)}
                    </a>
                  ) : (
                    <code>{issue.path || "document"}</code>
                  )}
                  : {issue.message}
                </li>
              );
            })}
          </ul>
        </div>
      ) : null}

      {view === "json" ? (
        <div className="field">
          <label htmlFor="editor-json">Pipeline document (JSON)</label>
          <p id="editor-json-hint" className="hint">
            The whole document, as <code>pipeline {"{ document }"}</code> returns it. Secret values show as
            •••••••• and are kept unless you replace them.
          </p>
          <textarea
            id="editor-json"
            className="code-input"
            rows={28}
            spellCheck={false}
            value={json}
            aria-describedby={`editor-json-hint${jsonError ? " editor-json-error" : ""}`}
            aria-invalid={jsonError ? true : undefined}
            onChange={(e) => {
              setJson(e.target.value);
              setJsonError(null);
            }}
          />
          {jsonError ? (
            <p id="editor-json-error" role="alert" className="error">
              {jsonError}
            </p>
          ) : null}
        </div>
      ) : (
        <>
          <div className="field-row">
            <InputField
              path="name"
              label="Pipeline name"
              hint={
                mode.kind === "edit"
                  ? "The name of an existing pipeline does not change."
                  : "1–100 of A–Z a–z 0–9 . @ _ -"
              }
              issues={issuesAt("name")}
              value={draft.name}
              readOnly={mode.kind === "edit"}
              onValue={(value) => change((d) => void (d.name = value))}
            />
            <Field path="executionMode" label="Execution mode" issues={issuesAt("executionMode")}>
              {(control) => (
                <select
                  {...control}
                  value={draft.executionMode}
                  onChange={(e) => change((d) => void (d.executionMode = e.target.value))}
                >
                  {EXECUTION_MODES.map((m) => (
                    <option key={m} value={m}>
                      {m.charAt(0) + m.slice(1).toLowerCase()}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          </div>
          <fieldset
            className="configuration variables"
            id={fieldId("variables")}
            tabIndex={-1}
            aria-describedby="variables-hint"
          >
            <legend>Variables</legend>
            <p id="variables-hint" className="hint">
              In configuration values, <code>#{"{variables.Name}"}</code> is replaced by the variable&apos;s
              value when the action is dispatched: its default value, unless the release
              (startPipelineExecution) overrides it.
            </p>
            <IssueList issues={issuesAt("variables")} />
            {draft.variables.length === 0 ? <p className="muted small">No variable.</p> : null}
            <ol className="edit-variables">
              {draft.variables.map((variable, k) => {
                const at = `variables[${k}]`;
                return (
                  <li key={variable.key} className="field-row" data-path={at}>
                    <InputField
                      path={`${at}.name`}
                      label={`Variable name ${k + 1}`}
                      hint="1–128 of A–Z a–z 0–9 @ _ -"
                      issues={issuesAt(`${at}.name`)}
                      className="code-input"
                      value={variable.name}
                      onValue={(value) => change((d) => void (d.variables[k]!.name = value))}
                    />
                    <InputField
                      path={`${at}.defaultValue`}
                      label={`Default value ${k + 1}`}
                      hint="Empty: an empty string."
                      issues={issuesAt(`${at}.defaultValue`)}
                      value={variable.defaultValue}
                      onValue={(value) => change((d) => void (d.variables[k]!.defaultValue = value))}
                    />
                    <InputField
                      path={`${at}.description`}
                      label={`Description ${k + 1}`}
                      issues={issuesAt(`${at}.description`)}
                      value={variable.description}
                      spellCheck
                      onValue={(value) => change((d) => void (d.variables[k]!.description = value))}
                    />
                    <div className="buttons">
                      <button
                        type="button"
                        onClick={() => change((d) => void d.variables.splice(k, 1), true)}
                      >
                        Remove<span className="visually-hidden"> variable {k + 1}</span>
                      </button>
                    </div>
                  </li>
                );
              })}
            </ol>
            <button
              type="button"
              onClick={() => {
                change((d) => void d.variables.push(emptyVariable()), true);
                focusSoon(fieldId(`variables[${draft.variables.length}].name`));
              }}
            >
              Add variable
            </button>
          </fieldset>
          <fieldset className="configuration schedules" id={fieldId("schedules")} tabIndex={-1}>
            <legend>Schedules</legend>
            <p className="hint">
              Start an execution at these times: five cron fields (minute hour day-of-month month day-of-week)
              in an IANA time zone; blank is UTC.
            </p>
            <IssueList issues={issuesAt("schedules")} />
            {draft.schedules.length === 0 ? <p className="muted small">No schedule.</p> : null}
            <ol className="edit-schedules">
              {draft.schedules.map((schedule, k) => {
                const at = `schedules[${k}]`;
                return (
                  <li key={schedule.key} className="field-row" data-path={at}>
                    <InputField
                      path={`${at}.cron`}
                      label={`Cron ${k + 1}`}
                      issues={issuesAt(`${at}.cron`)}
                      className="code-input"
                      value={schedule.cron}
                      placeholder="0 6 * * 1-5"
                      onValue={(value) => change((d) => void (d.schedules[k]!.cron = value))}
                    />
                    <InputField
                      path={`${at}.timezone`}
                      label={`Time zone ${k + 1}`}
                      issues={issuesAt(`${at}.timezone`)}
                      value={schedule.timezone}
                      placeholder="UTC"
                      onValue={(value) => change((d) => void (d.schedules[k]!.timezone = value))}
                    />
                    <div className="buttons">
                      <button
                        type="button"
                        onClick={() => change((d) => void d.schedules.splice(k, 1), true)}
                      >
                        Remove<span className="visually-hidden"> schedule {k + 1}</span>
                      </button>
                    </div>
                  </li>
                );
              })}
            </ol>
            <button type="button" onClick={() => change((d) => void d.schedules.push(emptySchedule()), true)}>
              Add schedule
            </button>
          </fieldset>
          <IssueList issues={issuesAt("")} />
          <IssueList issues={issuesAt("stages")} />

          <ol className="edit-stages">
            {draft.stages.map((stage, i) => {
              const stagePath = `stages[${i}]`;
              const headingId = `edit-stage-${stage.key}`;
              return (
                <li key={stage.key}>
                  <section className="stage edit-stage" aria-labelledby={headingId} data-path={stagePath}>
                    <div className="stage-head">
                      <h2 id={headingId}>
                        <span className="muted">Stage {i + 1}:</span> {stage.name || "(unnamed)"}
                      </h2>
                      <div className="buttons">
                        <button
                          type="button"
                          disabled={i === 0}
                          onClick={() => {
                            change((d) => d.stages.splice(i - 1, 0, ...d.stages.splice(i, 1)), true);
                            focusSoon(fieldId(`stages[${i - 1}].name`));
                          }}
                        >
                          Move up<span className="visually-hidden"> stage {stage.name}</span>
                        </button>
                        <button
                          type="button"
                          disabled={i === draft.stages.length - 1}
                          onClick={() => {
                            change((d) => d.stages.splice(i + 1, 0, ...d.stages.splice(i, 1)), true);
                            focusSoon(fieldId(`stages[${i + 1}].name`));
                          }}
                        >
                          Move down<span className="visually-hidden"> stage {stage.name}</span>
                        </button>
                        <button
                          type="button"
                          className="danger"
                          onClick={() => change((d) => void d.stages.splice(i, 1), true)}
                        >
                          Remove stage<span className="visually-hidden"> {stage.name}</span>
                        </button>
                      </div>
                    </div>
                    <InputField
                      path={`${stagePath}.name`}
                      label="Stage name"
                      issues={issuesAt(`${stagePath}.name`)}
                      value={stage.name}
                      onValue={(value) => change((d) => void (d.stages[i]!.name = value))}
                    />
                    <IssueList issues={issuesAt(stagePath)} />

                    <ul className="edit-actions">
                      {stage.actions.map((action, j) => {
                        const actionPath = `${stagePath}.actions[${j}]`;
                        const expanded = open.has(action.key);
                        const panelId = `edit-action-${action.key}`;
                        const label = action.name || "(unnamed action)";
                        const ownIssues = issuesAt(actionPath);
                        const anyIssue = issues.some((x) => anchorOf(x.path, draft).startsWith(actionPath));
                        return (
                          <li
                            key={action.key}
                            className={`edit-action${anyIssue ? " has-issues" : ""}`}
                            data-path={actionPath}
                          >
                            <div className="edit-action-head">
                              <h3>{label}</h3>
                              <span className="muted small">
                                {typeLabel(action.type)} · run order {action.runOrder || "1"}
                              </span>
                              <div className="buttons">
                                <button
                                  type="button"
                                  aria-expanded={expanded}
                                  aria-controls={panelId}
                                  onClick={() => toggle(action.key)}
                                >
                                  {expanded ? "Close" : "Edit"}
                                  <span className="visually-hidden"> action {label}</span>
                                </button>
                                <button
                                  type="button"
                                  className="danger"
                                  onClick={() => change((d) => void d.stages[i]!.actions.splice(j, 1), true)}
                                >
                                  Remove<span className="visually-hidden"> action {label}</span>
                                </button>
                              </div>
                            </div>
                            <IssueList issues={ownIssues} />
                            {expanded ? (
                              <div id={panelId}>
                                <ActionFields
                                  path={actionPath}
                                  action={action}
                                  types={types}
                                  typeInfo={typesByKey.get(typeKey(action.type))}
                                  available={artifactsBefore(draft, i, action.runOrder)}
                                  issuesAt={issuesAt}
                                  onChange={(recipe) => change((d) => recipe(d.stages[i]!.actions[j]!))}
                                />
                              </div>
                            ) : null}
                          </li>
                        );
                      })}
                    </ul>
                    <button
                      type="button"
                      onClick={() => {
                        const action = emptyAction(typeRef(defaultType(i)));
                        change((d) => void d.stages[i]!.actions.push(action), true);
                        toggle(action.key, true);
                        focusSoon(fieldId(`${stagePath}.actions[${stage.actions.length}].name`));
                      }}
                    >
                      Add action<span className="visually-hidden"> to stage {stage.name}</span>
                    </button>
                  </section>
                </li>
              );
            })}
          </ol>
          <button
            type="button"
            onClick={() => {
              change((d) => void d.stages.push(emptyStage()), true);
              focusSoon(fieldId(`stages[${draft.stages.length}].name`));
            }}
          >
            Add stage
          </button>
        </>
      )}

      <div className="save-bar">
        <button type="submit" className="primary" disabled={busy}>
          {mode.kind === "edit" ? "Save changes" : "Create pipeline"}
        </button>
        {mode.kind === "edit" ? (
          <Link href={`/pipelines/${encodeURIComponent(mode.name)}`}>Cancel</Link>
        ) : (
          <Link href="/">Cancel</Link>
        )}
        <p role="status" className={failure ? "error" : "notice"}>
          {busy ? "Saving…" : (failure ?? notice)}
        </p>
      </div>
    </form>
  );
}

/**
 * The save bar sticks to the bottom of the window: a control that gets the focus (Tab, a click, a
 * field focused after an error) and ends up under it is scrolled up just enough to be seen whole.
 */
function keepAboveSaveBar(target: EventTarget, form: HTMLFormElement): void {
  const bar = form.querySelector(".save-bar");
  if (!(target instanceof HTMLElement) || !bar || bar.contains(target)) return;
  const box = target.getBoundingClientRect();
  const barTop = bar.getBoundingClientRect().top;
  if (box.bottom > barTop && box.top < window.innerHeight) {
    window.scrollBy({ top: Math.min(box.bottom - barTop + 8, Math.max(0, box.top - 8)) });
  }
}
