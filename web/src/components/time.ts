import { useEffect, useState } from "react";

/** 850 ms → "0.9 s", 75 s → "1 min 15 s", 2 h 3 min → "2 h 3 min". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function elapsed(
  start: string | null | undefined,
  end: string | null | undefined,
  now: number,
): number | null {
  if (!start) return null;
  // The display clock ticks once a second and may trail the server's times a little.
  return Math.max(0, (end ? Date.parse(end) : now) - Date.parse(start));
}

/** "12 s ago", "5 min ago", or the local date and time past a day. */
export function formatAgo(at: string | null | undefined, now: number): string {
  if (!at) return "–";
  const ms = now - Date.parse(at);
  if (ms < 1000) return "just now";
  if (ms < 86_400_000) return `${formatDuration(ms).replace(/ \d+ s$/, "")} ago`;
  return formatTime(at);
}

export function formatTime(at: string | null | undefined): string {
  return at ? new Date(at).toLocaleString() : "–";
}

/** The current time, ticking every `everyMs` while `running` (a display clock; no request is made). */
export function useNow(everyMs = 1000, running = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!running) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs, running]);
  return now;
}

/** Bytes as "512 B", "1.2 KB", "3.4 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
