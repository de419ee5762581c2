/** A status as icon and text, never colour alone. */
const KINDS: Record<string, { icon: string; tone: string; label?: string }> = {
  Succeeded: { icon: "✓", tone: "ok" },
  Failed: { icon: "✕", tone: "bad" },
  InProgress: { icon: "▶", tone: "run", label: "In progress" },
  Queued: { icon: "◷", tone: "wait" },
  Stopping: { icon: "◼", tone: "warn" },
  Stopped: { icon: "◼", tone: "warn" },
  Abandoned: { icon: "⊘", tone: "warn" },
  Superseded: { icon: "↷", tone: "muted" },
  Cancelled: { icon: "⊘", tone: "muted" },
  Waiting: { icon: "‖", tone: "wait" },
  AwaitingApproval: { icon: "⚑", tone: "wait", label: "Waiting for approval" },
  online: { icon: "●", tone: "ok" },
  busy: { icon: "▶", tone: "run" },
  draining: { icon: "◐", tone: "warn" },
  offline: { icon: "○", tone: "muted" },
  // notification deliveries
  PENDING: { icon: "◷", tone: "wait", label: "Pending" },
  SUCCEEDED: { icon: "✓", tone: "ok", label: "Delivered" },
  FAILED: { icon: "✕", tone: "bad", label: "Failed" },
};

export function statusTone(status: string | null | undefined): string {
  return (status && KINDS[status]?.tone) || "none";
}

export function Status({ status, className }: { status: string | null | undefined; className?: string }) {
  const kind = status ? KINDS[status] : undefined;
  const label = kind?.label ?? status ?? "Not run";
  return (
    <span className={`status tone-${kind?.tone ?? "none"}${className ? ` ${className}` : ""}`}>
      <span aria-hidden="true" className="status-icon">
        {kind?.icon ?? "–"}
      </span>{" "}
      {label}
    </span>
  );
}
