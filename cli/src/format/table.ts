/**
 * `--output table` in the AWS CLI's manner (awscli/formatter.py TableFormatter): a box titled with the
 * operation's name; a dict's scalar keys as a header row over their values (a lone scalar as a
 * `key | value` row); each list or dict inside it as a nested section titled with its key, indented by
 * one more border; a list of dicts as one header row (every scalar key seen) and one row per element.
 */
import { scalarText } from "./text";

interface Section {
  title: string | undefined;
  indent: number;
  header: string[] | undefined;
  rows: string[][];
}

type Json = unknown;
const isNested = (value: Json): value is object => typeof value === "object" && value !== null;
const isDict = (value: Json): value is Record<string, Json> => isNested(value) && !Array.isArray(value);
/** The table shows null (and a key an element lacks) as an empty cell, as the AWS CLI does. */
const cell = (value: Json): string => (value === null || value === undefined ? "" : scalarText(value));

export function formatTable(value: Json, title: string): string {
  const sections: Section[] = [];
  build(sections, title, value, 0);
  if (sections.length === 0) return "";
  return render(sections);
}

function newSection(sections: Section[], title: string | undefined, indent: number): Section {
  const section: Section = { title, indent, header: undefined, rows: [] };
  sections.push(section);
  return section;
}

function build(sections: Section[], title: string | undefined, value: Json, indent: number): void {
  if (!isNested(value) && title !== undefined) {
    newSection(sections, title, indent).rows.push([cell(value)]);
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return;
    const section = newSection(sections, title, indent);
    if (isDict(value[0])) return buildFromList(sections, section, value, indent, title);
    for (const item of value) {
      if (!isNested(item)) section.rows.push([cell(item)]);
      else if (Array.isArray(item) && !item.some(isNested)) section.rows.push(item.map(cell));
      else build(sections, undefined, item, indent);
    }
    return;
  }
  if (isDict(value)) {
    if (Object.keys(value).length === 0) return;
    buildFromDict(sections, newSection(sections, title, indent), value, indent);
  }
}

function buildFromDict(sections: Section[], section: Section, value: Record<string, Json>, indent: number) {
  const keys = Object.keys(value).sort();
  const scalars = keys.filter((k) => !isNested(value[k]));
  if (scalars.length === 1) section.rows.push([scalars[0]!, cell(value[scalars[0]!])]);
  else if (scalars.length > 1) {
    section.header = scalars;
    section.rows.push(scalars.map((k) => cell(value[k])));
  }
  for (const key of keys.filter((k) => isNested(value[k]))) build(sections, key, value[key], indent + 1);
}

function buildFromList(
  sections: Section[],
  first: Section,
  items: Json[],
  indent: number,
  title: string | undefined,
) {
  const scalarKeys = new Set<string>();
  const nestedKeys = new Set<string>();
  for (const item of items.filter(isDict)) {
    for (const [k, v] of Object.entries(item)) (isNested(v) ? nestedKeys : scalarKeys).add(k);
  }
  const header = [...scalarKeys].sort();
  const more = [...nestedKeys].sort();
  let section = first;
  items.forEach((item, i) => {
    // With nested values, each element gets its own titled section so its children follow it.
    if (i > 0 && more.length > 0) section = newSection(sections, title, indent);
    if (header.length > 0) section.header = header;
    const element = isDict(item) ? item : {};
    section.rows.push(header.map((k) => cell(element[k])));
    for (const key of more) if (key in element) build(sections, key, element[key], indent + 1);
  });
}

function columnWidths(section: Section): number[] {
  const all = section.header ? [section.header, ...section.rows] : section.rows;
  const count = Math.max(0, ...all.map((r) => r.length));
  return Array.from({ length: count }, (_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)) + 4);
}

function render(sections: Section[]): string {
  const needed = sections.map((s) => {
    const widths = columnWidths(s);
    const cells = widths.reduce((a, b) => a + b, 0) + Math.max(0, widths.length - 1);
    return Math.max(cells, (s.title ?? "").length + 4) + 2 + 2 * s.indent;
  });
  const total = Math.max(...needed);
  const lines: string[] = [];
  sections.forEach((section, index) => {
    const outer = "|".repeat(section.indent);
    const inner = total - 2 * section.indent - 2; // between the section's own borders
    const line = (text: string) => lines.push(`${outer}${text}${outer}`);
    line(index === 0 ? "-".repeat(inner + 2) : `+${"-".repeat(inner)}+`);
    if (section.title !== undefined) line(`|${center(section.title, inner)}|`);
    if (section.rows.length === 0) return;
    const widths = stretch(columnWidths(section), inner);
    const rule = `+${widths.map((w) => "-".repeat(w)).join("+")}+`;
    if (section.title !== undefined || index > 0) line(rule);
    if (section.header) {
      line(`|${section.header.map((h, c) => center(h, widths[c]!)).join("|")}|`);
      line(rule);
    }
    for (const row of section.rows) {
      line(`|${widths.map((w, c) => `  ${row[c] ?? ""}`.padEnd(w)).join("|")}|`);
    }
    line(rule);
  });
  return lines.map((l) => `${l}\n`).join("");
}

/** Widens the columns so that they, and the borders between them, fill `inner` characters. */
function stretch(widths: number[], inner: number): number[] {
  const used = widths.reduce((a, b) => a + b, 0) + widths.length - 1;
  const extra = inner - used;
  if (extra <= 0 || widths.length === 0) return widths;
  const each = Math.floor(extra / widths.length);
  return widths.map((w, i) => w + each + (i < extra % widths.length ? 1 : 0));
}

function center(text: string, width: number): string {
  const left = Math.floor((width - text.length) / 2);
  return `${" ".repeat(Math.max(0, left))}${text}`.padEnd(width);
}
