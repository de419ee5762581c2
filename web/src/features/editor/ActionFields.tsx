"use client";

import { useState } from "react";
import { Field, InputField, IssueList } from "./Field";
import {
  fieldId,
  RETRY_CAUSES,
  typeKey,
  typeRef,
  typeLabel,
  type ActionTypeInfo,
  type ConfigurationProperty,
  type DraftAction,
  type Issue,
} from "./draft";

/** Long values (commands, file lists, JSON objects) get a text area. */
const MULTILINE = /Commands|Files|Variables|Headers|CustomData/;

const bounds = (d: { minimumCount: number; maximumCount: number }) =>
  d.minimumCount === d.maximumCount ? `exactly ${d.minimumCount}` : `${d.minimumCount}–${d.maximumCount}`;

/**
 * The form of one action: name, type (from the actionTypes query), run order, artifacts in and
 * out, agent pool, namespace, timeout, retry policy, and one field per configuration property of
 * its type (secrets masked, booleans as a choice, numbers as numbers).
 */
export function ActionFields(props: {
  path: string;
  action: DraftAction;
  types: ActionTypeInfo[];
  typeInfo: ActionTypeInfo | undefined;
  /** Output artifacts of the actions that run before this one. */
  available: string[];
  issuesAt(anchor: string): Issue[] | undefined;
  onChange(recipe: (action: DraftAction) => void): void;
}) {
  const { action, path, typeInfo } = props;
  const set = (recipe: (action: DraftAction) => void) => props.onChange(recipe);
  const categories = [...new Set(props.types.map((t) => t.id.category))];
  const known = props.types.some((t) => typeKey(t.id) === typeKey(action.type));
  const properties: ConfigurationProperty[] = [...(typeInfo?.configurationProperties ?? [])];
  for (const name of Object.keys(action.configuration))
    if (!properties.some((p) => p.name === name))
      properties.push({ name, required: false, secret: false, type: "String", description: null });

  return (
    <div className="action-fields">
      <div className="field-row">
        <InputField
          path={`${path}.name`}
          label="Action name"
          issues={props.issuesAt(`${path}.name`)}
          value={action.name}
          onValue={(value) => set((a) => void (a.name = value))}
        />
        <Field
          path={`${path}.actionTypeId`}
          label="Action type"
          hint={typeInfo?.description}
          issues={props.issuesAt(`${path}.actionTypeId`)}
        >
          {(control) => (
            <select
              {...control}
              value={typeKey(action.type)}
              onChange={(e) => {
                const next = props.types.find((t) => typeKey(t.id) === e.target.value);
                if (!next) return;
                set((a) => {
                  a.type = typeRef(next.id);
                  // Keep what the new type also takes; drop the rest.
                  const names = new Set(next.configurationProperties.map((p) => p.name));
                  a.configuration = Object.fromEntries(
                    Object.entries(a.configuration).filter(([k]) => names.has(k)),
                  );
                });
              }}
            >
              {known ? null : (
                <option value={typeKey(action.type)}>{typeLabel(action.type)} (unknown)</option>
              )}
              {categories.map((category) => (
                <optgroup key={category} label={category}>
                  {props.types
                    .filter((t) => t.id.category === category)
                    .map((t) => (
                      <option key={typeKey(t.id)} value={typeKey(t.id)}>
                        {typeLabel(t.id)}
                      </option>
                    ))}
                </optgroup>
              ))}
            </select>
          )}
        </Field>
        <InputField
          path={`${path}.runOrder`}
          label="Run order"
          hint="1–999; the same number runs in parallel"
          issues={props.issuesAt(`${path}.runOrder`)}
          className="field-narrow"
          type="number"
          min={1}
          max={999}
          step={1}
          value={action.runOrder}
          onValue={(value) => set((a) => void (a.runOrder = value))}
        />
      </div>

      <div className="field-row">
        <InputField
          path={`${path}.inputArtifacts`}
          label="Input artifacts"
          hint={
            <>
              Comma-separated{typeInfo ? `; ${bounds(typeInfo.inputArtifactDetails)}` : ""}.{" "}
              {props.available.length > 0
                ? `Produced earlier: ${props.available.join(", ")}.`
                : "No earlier action produces one."}
            </>
          }
          issues={props.issuesAt(`${path}.inputArtifacts`)}

          value={action.inputArtifacts}

          onValue={(value) => set((a) => void (a.inputArtifacts = value))}
        />
        <InputField
          path={`${path}.outputArtifacts`}
          label="Output artifacts"
          hint={`Comma-separated${typeInfo ? `; ${bounds(typeInfo.outputArtifactDetails)}` : ""}.`}
          issues={props.issuesAt(`${path}.outputArtifacts`)}
          value={action.outputArtifacts}
          onValue={(value) => set((a) => void (a.outputArtifacts = value))}
        />
      </div>

      <fieldset className="configuration">
        <legend>Configuration</legend>
        <IssueList issues={props.issuesAt(`${path}.configuration`)} />
        {properties.length === 0 ? (
          <p className="muted small">This action type takes no configuration.</p>
        ) : null}
        {properties.map((property) => (
          <ConfigurationField
            key={property.name}
            path={`${path}.configuration.${property.name}`}
            property={property}
            value={action.configuration[property.name] ?? ""}
            issues={props.issuesAt(`${path}.configuration.${property.name}`)}
            onChange={(value) => set((a) => void (a.configuration[property.name] = value))}
          />
        ))}
      </fieldset>

      <div className="field-row">
        <InputField
          path={`${path}.region`}
          label="Agent pool"
          hint="Empty: the default pool."
          issues={props.issuesAt(`${path}.region`)}
          value={action.region}
          onValue={(value) => set((a) => void (a.region = value))}
        />
        <InputField
          path={`${path}.namespace`}
          label="Variable namespace"
          hint="Later actions read its output variables as #{Namespace.Name}."
          issues={props.issuesAt(`${path}.namespace`)}
          value={action.namespace}
          onValue={(value) => set((a) => void (a.namespace = value))}
        />
        <InputField
          path={`${path}.timeoutInMinutes`}
          label="Timeout (minutes)"
          hint="Empty: the type's default."
          issues={props.issuesAt(`${path}.timeoutInMinutes`)}
          className="field-narrow"
          type="number"
          min={1}
          step={1}
          value={action.timeoutInMinutes}
          onValue={(value) => set((a) => void (a.timeoutInMinutes = value))}
        />
      </div>

      <RetryFields path={`${path}.retryPolicy`} action={action} issuesAt={props.issuesAt} onChange={set} />
    </div>
  );
}

const CAUSE_LABELS: Record<string, string> = {
  AGENT_LOST: "Agent lost",
  FAILED: "Failed",
  TIMED_OUT: "Timed out",
};

/** The default policy of an action's category, in words (server/src/domain/execution/actions.ts). */
function defaultPolicy(category: string): string {
  if (category === "Approval") return "an approval is never retried";
  if (category === "Deploy")
    return "not retried: a deploy may have changed something before its agent was lost";
  return "retried when its agent is lost, up to 3 attempts in all";
}

/**
 * retryPolicy: the default of the action's category, or a custom one (attempts in all, the wait
 * between them, and the causes that retry). Causes the form does not know (typed in the JSON view)
 * show as checked boxes too, so that they can be taken out here.
 */
function RetryFields(props: {
  path: string;
  action: DraftAction;
  issuesAt(anchor: string): Issue[] | undefined;
  onChange(recipe: (action: DraftAction) => void): void;
}) {
  const { path, action } = props;
  const { retry } = action;
  const set = props.onChange;
  const approval = action.type.category === "Approval";
  const id = fieldId(path);
  const issues = props.issuesAt(path);
  const onId = fieldId(`${path}.on`);
  const onIssues = props.issuesAt(`${path}.on`);
  const causes = [
    ...RETRY_CAUSES,
    ...retry.on.filter((c) => !(RETRY_CAUSES as readonly string[]).includes(c)),
  ];
  const toggle = (cause: string, checked: boolean) =>
    set((a) => {
      const on = new Set(a.retry.on);
      if (checked) on.add(cause);
      else on.delete(cause);
      a.retry.on = causes.filter((c) => on.has(c));
    });
  return (
    <fieldset
      className="configuration retry"
      id={id}
      tabIndex={-1}
      aria-describedby={issues?.length ? `${id}-error` : undefined}
    >
      <legend>Retry policy</legend>
      <IssueList id={`${id}-error`} issues={issues} />
      <div className="choices">
        <label className="check">
          <input
            type="radio"
            name={`retry-${action.key}`}
            checked={!retry.custom}
            onChange={() => set((a) => void (a.retry.custom = false))}
          />
          Default ({defaultPolicy(action.type.category)})
        </label>
        <label className="check">
          <input
            type="radio"
            name={`retry-${action.key}`}
            checked={retry.custom}
            disabled={approval && !retry.custom}
            onChange={() => set((a) => void (a.retry.custom = true))}
          />
          Custom
        </label>
      </div>
      {retry.custom ? (
        <>
          <div className="field-row">
            <InputField
              path={`${path}.maxAttempts`}
              label="Attempts"
              hint="1–10 in all, the first included."
              issues={props.issuesAt(`${path}.maxAttempts`)}
              type="number"
              min={1}
              max={10}
              step={1}
              value={retry.maxAttempts}
              onValue={(value) => set((a) => void (a.retry.maxAttempts = value))}
            />
            <InputField
              path={`${path}.backoffSeconds`}
              label="Seconds between attempts"
              hint="0–3600; empty: 0."
              issues={props.issuesAt(`${path}.backoffSeconds`)}
              type="number"
              min={0}
              max={3600}
              step={1}
              value={retry.backoffSeconds}
              onValue={(value) => set((a) => void (a.retry.backoffSeconds = value))}
            />
          </div>
          <fieldset
            className={`retry-causes${onIssues?.length ? " field-invalid" : ""}`}
            id={onId}
            tabIndex={-1}
            aria-describedby={onIssues?.length ? `${onId}-error` : undefined}
          >
            <legend>Retry when the attempt ends with</legend>
            <div className="choices">
              {causes.map((cause) => (
                <label key={cause} className="check">
                  <input
                    type="checkbox"
                    checked={retry.on.includes(cause)}
                    onChange={(e) => toggle(cause, e.target.checked)}
                  />
                  {CAUSE_LABELS[cause] ?? cause}
                </label>
              ))}
            </div>
            <IssueList id={`${onId}-error`} issues={onIssues} />
          </fieldset>
        </>
      ) : null}
    </fieldset>
  );
}

function ConfigurationField(props: {
  path: string;
  property: ConfigurationProperty;
  value: string;
  issues: Issue[] | undefined;
  onChange(value: string): void;
}) {
  const { property } = props;
  const [shown, setShown] = useState(false);
  const label = (
    <>
      {property.name}
      {property.required ? <span className="required"> (required)</span> : null}
      {property.secret ? <span className="muted"> (secret)</span> : null}
    </>
  );
  return (
    <Field path={props.path} label={label} hint={hintOf(property)} issues={props.issues}>
      {(control) => {
        const common = { ...control, "aria-required": property.required || undefined };
        if (property.secret)
          return (
            <span className="secret">
              <input
                {...common}
                type={shown ? "text" : "password"}
                value={props.value}
                autoComplete="new-password"
                spellCheck={false}
                onChange={(e) => props.onChange(e.target.value)}
              />
              <button type="button" aria-pressed={shown} onClick={() => setShown((s) => !s)}>
                {shown ? "Hide" : "Show"}
                <span className="visually-hidden"> {property.name}</span>
              </button>
            </span>
          );
        if (property.type === "Boolean")
          return (
            <select {...common} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
              <option value="">Not set (default)</option>
              <option value="true">true</option>
              <option value="false">false</option>
            </select>
          );
        if (property.type === "Number")
          return (
            <input
              {...common}
              type="number"
              value={props.value}
              onChange={(e) => props.onChange(e.target.value)}
            />
          );
        if (MULTILINE.test(property.name))
          return (
            <textarea
              {...common}
              rows={Math.min(10, Math.max(3, props.value.split("\n").length + 1))}
              value={props.value}
              spellCheck={false}
              className="code-input"
              onChange={(e) => props.onChange(e.target.value)}
            />
          );
        return (
          <input
            {...common}
            type="text"
            value={props.value}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => props.onChange(e.target.value)}
          />
        );
      }}
    </Field>
  );
}

/** What the server shows instead of a stored secret (server/src/domain/pipeline/secrets.ts). */
const STORED_SECRET = "****";

function hintOf(property: { description?: string | null; secret: boolean }): string | null {
  if (!property.secret) return property.description ?? null;
  const stored = `The server never sends a stored secret: it shows ${STORED_SECRET}, and saving ${STORED_SECRET} keeps it.`;
  return property.description ? `${property.description} ${stored}` : stored;
}
