"use client";

import type { InputHTMLAttributes, ReactNode } from "react";
import { fieldId, type Issue } from "./draft";

export interface ControlProps {
  id: string;
  "aria-invalid": true | undefined;
  "aria-describedby": string | undefined;
}

/**
 * One labelled form control with its hint and the problems the server (or the draft) found at its
 * path: the control is aria-invalid and described by them, and its id is what the error summary
 * links to.
 */
export function Field(props: {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
  issues: Issue[] | undefined;
  className?: string;
  children(control: ControlProps): ReactNode;
}) {
  const id = fieldId(props.path);
  const issues = props.issues ?? [];
  const described = [props.hint ? `${id}-hint` : null, issues.length > 0 ? `${id}-error` : null]
    .filter(Boolean)
    .join(" ");
  return (
    <div
      className={`field${issues.length > 0 ? " field-invalid" : ""}${props.className ? ` ${props.className}` : ""}`}
    >
      <label htmlFor={id}>{props.label}</label>
      {props.children({
        id,
        "aria-invalid": issues.length > 0 ? true : undefined,
        "aria-describedby": described || undefined,
      })}
      {props.hint ? (
        <p id={`${id}-hint`} className="hint">
          {props.hint}
        </p>
      ) : null}
      <IssueList id={`${id}-error`} issues={issues} />
    </div>
  );
}

/**
 * A Field whose control is one `<input>` (text unless `type` says otherwise), with what every
 * input of the editor has: no autocomplete, no spell check (names and commands; pass
 * `spellCheck` for prose), and the typed text handed to `onValue`.
 */
export function InputField({
  path,
  label,
  hint,
  issues,
  className,
  onValue,
  ...input
}: {
  path: string;
  label: ReactNode;
  hint?: ReactNode;
  issues: Issue[] | undefined;
  className?: string;
  onValue(value: string): void;
} & Omit<InputHTMLAttributes<HTMLInputElement>, "onChange" | "id">) {
  return (
    <Field path={path} label={label} hint={hint} issues={issues} className={className}>
      {(control) => (
        <input
          type="text"
          autoComplete="off"
          spellCheck={false}
          {...input}
          {...control}
          onChange={(e) => onValue(e.target.value)}
        />
      )}
    </Field>
  );
}

/** Problems shown where they belong (a field, a group, an action, a stage). */
export function IssueList({ id, issues }: { id?: string; issues: Issue[] | undefined }) {
  if (!issues || issues.length === 0) return null;
  return (
    <ul id={id} className="field-errors">
      {issues.map((issue, i) => (
        <li key={i}>
          <span aria-hidden="true">✕ </span>
          {issue.message}
        </li>
      ))}
    </ul>
  );
}
