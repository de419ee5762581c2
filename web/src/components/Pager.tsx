/** Newer / Page n / Older over a connection read by cursors: `cursors` are those of the pages before. */
export function Pager(props: {
  label: string;
  cursors: readonly string[];
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
  setCursors: (recipe: (current: string[]) => string[]) => void;
}) {
  const { cursors, pageInfo, setCursors } = props;
  return (
    <nav aria-label={props.label} className="buttons">
      <button type="button" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
        Newer
      </button>
      <span>Page {cursors.length + 1}</span>
      <button
        type="button"
        disabled={!pageInfo.hasNextPage}
        onClick={() => {
          const end = pageInfo.endCursor;
          if (end) setCursors((c) => [...c, end]);
        }}
      >
        Older
      </button>
    </nav>
  );
}
