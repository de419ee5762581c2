/**
 * `--cli-input-json` in the AWS CLI style: `file://path` (relative to the working directory, or
 * `file:///absolute/path`), `-` for stdin, or the JSON text itself. Every failure is a UsageError
 * that names where the input came from; a JSON syntax error also gives its line and column.
 */
import { readFile } from "node:fs/promises";
import { UsageError } from "./errors";
import { findJsonSyntaxError, positionOf } from "./json-syntax";

export const FILE_PREFIX = "file://";

export interface InputSources {
  readStdin(): Promise<string>;
  readFile?(path: string): Promise<string>;
}

/** Reads and parses the value of `--cli-input-json`. */
export async function readCliInputJson(spec: string, sources: InputSources): Promise<unknown> {
  if (spec === "-") {
    return parseJsonText(await sources.readStdin(), "stdin");
  }
  if (spec.startsWith(FILE_PREFIX)) {
    const path = spec.slice(FILE_PREFIX.length);
    if (path === "") throw new UsageError(`--cli-input-json ${spec}: missing file path after ${FILE_PREFIX}`);
    const text = await readInputFile(path, sources.readFile ?? ((p) => readFile(p, "utf8")));
    return parseJsonText(text, spec);
  }
  try {
    return parseJsonText(spec, "--cli-input-json");
  } catch (err) {
    const looksLikePath = !/^\s*[{["]/.test(spec);
    if (err instanceof UsageError && looksLikePath) {
      throw new UsageError(`${err.message} (to read a file, write --cli-input-json ${FILE_PREFIX}${spec})`);
    }
    throw err;
  }
}

async function readInputFile(path: string, read: (path: string) => Promise<string>): Promise<string> {
  try {
    return await read(path);
  } catch (err) {
    throw new UsageError(`cannot read ${FILE_PREFIX}${path}: ${describeFsError(err)}`);
  }
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "is a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  const message = (err as { message?: unknown } | undefined)?.message;
  return typeof message === "string" ? message : String(err);
}

/** `JSON.parse` with an error message naming `source` and the line/column of the first syntax error. */
export function parseJsonText(raw: string, source: string): unknown {
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw; // tolerate a UTF-8 byte order mark
  if (text.trim() === "") throw new UsageError(`invalid JSON in ${source}: the input is empty`);
  try {
    return JSON.parse(text);
  } catch (err) {
    const found = findJsonSyntaxError(text);
    if (found) {
      const { line, column } = positionOf(text, found.offset);
      throw new UsageError(
        `invalid JSON in ${source} at line ${line}, column ${column} (position ${found.offset}): ${found.message}`,
      );
    }
    throw new UsageError(`invalid JSON in ${source}: ${(err as SyntaxError).message}`);
  }
}
