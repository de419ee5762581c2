import { formatDuration } from "@/components/time";

export interface ChartExecution {
  id: string;
  status: string;
  startTime: string;
  endTime?: string | null;
}

const WIDTH = 640;
const HEIGHT = 180;
const PAD = { top: 12, right: 12, bottom: 24, left: 64 };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** One sentence a screen reader (and everyone) gets instead of the picture. */
export function summarize(points: Array<{ ms: number; status: string }>): string {
  if (points.length === 0) return "No execution has finished yet.";
  const durations = points.map((p) => p.ms);
  const last = points[points.length - 1]!;
  let trend = "";
  if (points.length >= 6) {
    const half = Math.min(5, Math.floor(points.length / 2));
    const recent = median(durations.slice(-half));
    const before = median(durations.slice(-2 * half, -half));
    const change = before > 0 ? (recent - before) / before : 0;
    trend =
      Math.abs(change) < 0.1
        ? ` The last ${half} took about as long as the ${half} before.`
        : ` The last ${half} took ${Math.round(Math.abs(change) * 100)}% ${change > 0 ? "longer" : "less"} than the ${half} before.`;
  }
  return (
    `Durations of the last ${points.length} finished execution${points.length > 1 ? "s" : ""}, oldest first: ` +
    `median ${formatDuration(median(durations))}, fastest ${formatDuration(Math.min(...durations))}, ` +
    `slowest ${formatDuration(Math.max(...durations))}; the latest took ${formatDuration(last.ms)} (${last.status}).${trend}`
  );
}

/**
 * Durations of the last finished executions as bars, oldest on the left, in plain SVG: an image
 * with a title and a text summary, a dashed median line, and the same figures as a table.
 */
export function DurationChart({ executions }: { executions: ChartExecution[] }) {
  const points = executions
    .filter((e) => e.endTime)
    .map((e) => ({
      id: e.id,
      status: e.status,
      startTime: e.startTime,
      ms: Date.parse(e.endTime!) - Date.parse(e.startTime),
    }))
    .reverse();
  const summary = summarize(points);
  if (points.length === 0) return <p className="muted">{summary}</p>;
  const max = Math.max(...points.map((p) => p.ms), 1);
  const innerW = WIDTH - PAD.left - PAD.right;
  const innerH = HEIGHT - PAD.top - PAD.bottom;
  const slot = innerW / points.length;
  const barW = Math.max(2, Math.min(40, slot * 0.7));
  const y = (ms: number) => PAD.top + innerH - (ms / max) * innerH;
  const mid = median(points.map((p) => p.ms));
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby="duration-chart-title"
        aria-describedby="duration-chart-summary"
        className="chart-svg"
      >
        <title id="duration-chart-title">Execution durations</title>
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(0)} y2={y(0)} className="chart-axis" />
        <line x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={y(0)} className="chart-axis" />
        <text x={PAD.left - 6} y={y(max) + 4} textAnchor="end" className="chart-label">
          {formatDuration(max)}
        </text>
        <text x={PAD.left - 6} y={y(0)} textAnchor="end" className="chart-label">
          0
        </text>
        {points.map((p, i) => {
          const h = Math.max(1, y(0) - y(p.ms));
          return (
            <rect
              key={p.id}
              x={PAD.left + i * slot + (slot - barW) / 2}
              y={y(0) - h}
              width={barW}
              height={h}
              className={`chart-bar chart-${p.status}`}
            >
              <title>{`${p.id.slice(0, 8)}: ${formatDuration(p.ms)}, ${p.status}`}</title>
            </rect>
          );
        })}
        <line x1={PAD.left} x2={WIDTH - PAD.right} y1={y(mid)} y2={y(mid)} className="chart-median" />
        <text x={WIDTH - PAD.right} y={y(mid) - 4} textAnchor="end" className="chart-label">
          median {formatDuration(mid)}
        </text>
        <text x={PAD.left} y={HEIGHT - 6} className="chart-label">
          oldest
        </text>
        <text x={WIDTH - PAD.right} y={HEIGHT - 6} textAnchor="end" className="chart-label">
          newest
        </text>
      </svg>
      <figcaption id="duration-chart-summary">
        {summary} <span className="muted">Bars: green succeeded, red failed, grey other.</span>
      </figcaption>
      <details>
        <summary>The figures as a table</summary>
        <table className="table">
          <caption className="visually-hidden">
            Durations of the last finished executions, oldest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Execution</th>
              <th scope="col">Started</th>
              <th scope="col">Status</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {points.map((p) => (
              <tr key={p.id}>
                <td>
                  <code>{p.id.slice(0, 8)}</code>
                </td>
                <td>{new Date(p.startTime).toLocaleString()}</td>
                <td>{p.status}</td>
                <td>{formatDuration(p.ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
