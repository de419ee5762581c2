"use client";

import { useEffect, useRef, type FormEvent, type ReactNode } from "react";

/**
 * A modal form on the native <dialog> (focus moves in and returns, Escape closes). `onSubmit`
 * receives the form's data; the dialog stays open until the parent closes it, so errors can show.
 */
export function FormDialog(props: {
  open: boolean;
  title: string;
  onClose(): void;
  onSubmit(data: FormData, submitter: string | null): void;
  children: ReactNode;
  error?: string | null;
  busy?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
    props.onSubmit(new FormData(event.currentTarget), submitter?.value || null);
  };
  const titleId = `dialog-${props.title.replace(/\W+/g, "-").toLowerCase()}`;
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={props.onClose} className="dialog">
      {props.open ? (
        <form onSubmit={submit} aria-busy={props.busy}>
          <h2 id={titleId}>{props.title}</h2>
          {props.children}
          {props.error ? (
            <p role="alert" className="error">
              {props.error}
            </p>
          ) : null}
        </form>
      ) : null}
    </dialog>
  );
}
