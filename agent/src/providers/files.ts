/**
 * Globs over a job's working directory (OutputFiles, ReportFiles) and the OutputSpecs built from
 * them. Symbolic links are matched as themselves and never followed: an artifact keeps them as
 * links, and a link to / must not drag the host's files into an artifact.
 */
import fs from "node:fs";
import { readdir } from "node:fs/promises";
import { glob } from "tinyglobby";
import { safeSegments } from "../artifacts/archive";
import type { OutputSpec } from "./types";

type Readdir = typeof fs.readdir;

/** A Dirent that reports a symbolic link as a plain file, so the crawler lists it without following it. */
function symlinkAsFile(entry: fs.Dirent): fs.Dirent {
  if (!entry.isSymbolicLink()) return entry;
  return Object.create(entry, {
    isFile: { value: () => true },
    isDirectory: { value: () => false },
    isSymbolicLink: { value: () => false },
  }) as fs.Dirent;
}

const readdirKeepingSymlinks = ((
  dir: fs.PathLike,
  options: object,
  callback: (...args: unknown[]) => void,
) => {
  fs.readdir(dir, options as { withFileTypes: true }, (error, entries) => {
    if (error) callback(error, entries);
    else callback(null, entries.map(symlinkAsFile));
  });
}) as unknown as Readdir;

const readdirSyncKeepingSymlinks = ((dir: fs.PathLike, options: object) =>
  fs
    .readdirSync(dir, options as { withFileTypes: true })
    .map(symlinkAsFile)) as unknown as typeof fs.readdirSync;

/** "dist/**, *.txt" or one pattern per line → the patterns. */
export function parsePatterns(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
}

export class PatternError extends Error {}

/**
 * Files and symlinks under `cwd` matching `patterns` (dot files included), sorted, relative.
 * Throws PatternError for a pattern that is absolute or climbs out of `cwd`.
 */
export async function matchFiles(
  cwd: string,
  patterns: readonly string[],
  ignore: readonly string[] = [],
): Promise<string[]> {
  for (const pattern of patterns) {
    const bare = pattern.replace(/^!/, "");
    if (safeSegments(bare) === null) {
      throw new PatternError(`pattern ${JSON.stringify(pattern)} must be relative and must not contain ".."`);
    }
  }
  const found = await glob([...patterns], {
    cwd,
    dot: true,
    followSymbolicLinks: false,
    expandDirectories: true,
    ignore: [...ignore],
    fs: { readdir: readdirKeepingSymlinks, readdirSync: readdirSyncKeepingSymlinks },
  });
  return [...new Set(found.filter((f) => safeSegments(f) !== null))].sort();
}

/** Every top-level entry of `dir` except `exclude`: the whole directory as an OutputSpec's files. */
export async function topLevelEntries(dir: string, exclude: readonly string[] = []): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !exclude.includes(name)).sort();
}

export type OutputPlan =
  { ok: true; patterns: Map<string, string[]> | "whole-directory" } | { ok: false; message: string };

/**
 * Reads OutputFiles against the job's declared outputs. Comma-separated globs name the files of the
 * only output artifact; a JSON object maps each output artifact to its globs.
 */
export function planOutputs(outputFiles: string | undefined, declared: readonly string[]): OutputPlan {
  if (outputFiles === undefined || outputFiles.trim() === "") {
    if (declared.length > 1) {
      return {
        ok: false,
        message: `OutputFiles is required when an action has several output artifacts (${declared.join(", ")}): map each to its files, e.g. {"${declared[0]}":"dist/**"}`,
      };
    }
    return { ok: true, patterns: "whole-directory" };
  }
  const trimmed = outputFiles.trim();
  const patterns = new Map<string, string[]>();
  if (trimmed.startsWith("{")) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch (error) {
      return { ok: false, message: `OutputFiles is not valid JSON: ${(error as Error).message}` };
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return { ok: false, message: "OutputFiles must map output artifact names to comma-separated globs" };
    }
    for (const [name, value] of Object.entries(parsed)) {
      if (!declared.includes(name)) {
        return {
          ok: false,
          message: `OutputFiles names ${JSON.stringify(name)}, which is not an output artifact of this action (${declared.join(", ") || "none"})`,
        };
      }
      if (typeof value !== "string" || parsePatterns(value).length === 0) {
        return {
          ok: false,
          message: `OutputFiles: the files of ${name} must be a non-empty string of globs`,
        };
      }
      patterns.set(name, parsePatterns(value));
    }
    const missing = declared.filter((name) => !patterns.has(name));
    if (missing.length > 0) {
      return {
        ok: false,
        message: `OutputFiles does not say which files make output artifact ${missing.join(", ")}`,
      };
    }
  } else {
    if (declared.length !== 1) {
      return {
        ok: false,
        message:
          declared.length === 0
            ? "OutputFiles is set but the action has no output artifact"
            : `OutputFiles must be a JSON object mapping each of the output artifacts ${declared.join(", ")} to its globs`,
      };
    }
    patterns.set(declared[0]!, parsePatterns(trimmed));
  }
  for (const [name, list] of patterns) {
    for (const pattern of list) {
      if (safeSegments(pattern.replace(/^!/, "")) === null) {
        return {
          ok: false,
          message: `OutputFiles of ${name}: pattern ${JSON.stringify(pattern)} must be relative and must not contain ".."`,
        };
      }
    }
  }
  return { ok: true, patterns };
}

/**
 * Turns a plan into OutputSpecs under `cwd`. Returns an error message naming the artifact whose
 * globs matched nothing.
 */
export async function resolveOutputs(
  plan: Map<string, string[]> | "whole-directory",
  declared: readonly string[],
  cwd: string,
  exclude: readonly string[],
): Promise<{ ok: true; outputs: Record<string, OutputSpec> } | { ok: false; message: string }> {
  const outputs: Record<string, OutputSpec> = {};
  if (plan === "whole-directory") {
    for (const name of declared) outputs[name] = { root: cwd, files: await topLevelEntries(cwd, exclude) };
    return { ok: true, outputs };
  }
  for (const [name, patterns] of plan) {
    const files = await matchFiles(
      cwd,
      patterns,
      exclude.map((e) => `${e}/**`),
    );
    if (files.length === 0) {
      return {
        ok: false,
        message: `output artifact ${name}: OutputFiles ${JSON.stringify(patterns.join(", "))} matched no file in ${cwd}`,
      };
    }
    outputs[name] = { root: cwd, files };
  }
  return { ok: true, outputs };
}
