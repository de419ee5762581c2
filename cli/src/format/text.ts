/**
 * `--output text` as the AWS CLI renders it (awscli/text.py): a dict's scalar values on one line,
 * tab-separated, in key order, prefixed with the upper-cased key it was found under; its lists and
 * dicts follow, each under its own key. The dicts of a list share one set of columns (every scalar key
 * seen in the list), so the columns line up for `cut`. A list of scalars under a key prints one
 * `KEY<TAB>value` line each; a bare list of scalars prints them on one line.
 */
type Json = unknown;

export function formatText(value: Json): string {
  const lines: string[] = [];
  render(value, lines, undefined, undefined);
  return lines.map((line) => `${line}\n`).join("");
}

function isNested(value: Json): value is object {
  return typeof value === "object" && value !== null;
}

/** Scalars print as Python's str() does in the AWS CLI: null is None, booleans are True and False. */
export function scalarText(value: Json): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  return String(value);
}

function render(
  item: Json,
  lines: string[],
  identifier: string | undefined,
  scalarKeys: string[] | undefined,
) {
  if (Array.isArray(item)) renderList(item, lines, identifier);
  else if (isNested(item)) renderDict(item as Record<string, Json>, lines, identifier, scalarKeys);
  else lines.push(scalarText(item));
}

function renderList(items: Json[], lines: string[], identifier: string | undefined) {
  if (items.length === 0) return;
  if (items.some((el) => isNested(el) && !Array.isArray(el))) {
    const keys = allScalarKeys(items);
    for (const element of items) render(element, lines, identifier, keys);
  } else if (items.some(Array.isArray)) {
    const scalars = items.filter((el) => !isNested(el));
    if (scalars.length > 0) renderScalarList(scalars, lines, identifier);
    for (const nested of items.filter(isNested)) render(nested, lines, identifier, undefined);
  } else {
    renderScalarList(items, lines, identifier);
  }
}

function renderScalarList(items: Json[], lines: string[], identifier: string | undefined) {
  if (identifier === undefined) lines.push(items.map(scalarText).join("\t"));
  else for (const item of items) lines.push(`${identifier.toUpperCase()}\t${scalarText(item)}`);
}

function renderDict(
  item: Record<string, Json>,
  lines: string[],
  identifier: string | undefined,
  scalarKeys: string[] | undefined,
) {
  const scalars: string[] = [];
  const nested: [string, Json][] = [];
  if (scalarKeys === undefined) {
    for (const key of Object.keys(item).sort()) {
      if (isNested(item[key])) nested.push([key, item[key]]);
      else scalars.push(scalarText(item[key]));
    }
  } else {
    for (const key of scalarKeys) scalars.push(scalarText(item[key]));
    for (const key of Object.keys(item).sort()) if (!scalarKeys.includes(key)) nested.push([key, item[key]]);
  }
  if (scalars.length > 0) {
    lines.push((identifier === undefined ? scalars : [identifier.toUpperCase(), ...scalars]).join("\t"));
  }
  for (const [key, value] of nested) render(value, lines, key, undefined);
}

function allScalarKeys(items: Json[]): string[] {
  const keys = new Set<string>();
  for (const item of items) {
    if (!isNested(item) || Array.isArray(item)) continue;
    for (const [key, value] of Object.entries(item)) if (!isNested(value)) keys.add(key);
  }
  return [...keys].sort();
}
