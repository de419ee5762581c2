/**
 * JUnit XML reports → the test counts a Test action reports. Test runners disagree on the details
 * (a <testsuites> root or a lone <testsuite>, nested suites, counts in attributes or only in
 * <testcase> children), so test cases are counted when present and attributes used otherwise.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { realPathInside } from "../exec/job-users";
import { matchFiles, parsePatterns } from "./files";
import type { LogSink } from "./types";

export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
}

type Node = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  isArray: (name) => name === "testsuites" || name === "testsuite" || name === "testcase",
  processEntities: false,
});

function attribute(node: Node, name: string): number {
  const value = Number(node[`@_${name}`]);
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

function children(node: Node, name: string): Node[] {
  const value = node[name];
  return Array.isArray(value) ? (value.filter((v) => typeof v === "object" && v !== null) as Node[]) : [];
}

function add(a: TestCounts, b: TestCounts): TestCounts {
  return { passed: a.passed + b.passed, failed: a.failed + b.failed, skipped: a.skipped + b.skipped };
}

const ZERO: TestCounts = { passed: 0, failed: 0, skipped: 0 };

function fromAttributes(node: Node): TestCounts {
  const tests = attribute(node, "tests");
  const failed = attribute(node, "failures") + attribute(node, "errors");
  const skipped = attribute(node, "skipped") + attribute(node, "disabled");
  return { passed: Math.max(0, tests - failed - skipped), failed, skipped };
}

function countSuite(suite: Node): TestCounts {
  const cases = children(suite, "testcase");
  const nested = children(suite, "testsuite");
  if (cases.length === 0 && nested.length === 0) return fromAttributes(suite);
  let counts = nested.map(countSuite).reduce(add, ZERO);
  for (const testCase of cases) {
    if ("failure" in testCase || "error" in testCase) counts = add(counts, { ...ZERO, failed: 1 });
    else if ("skipped" in testCase) counts = add(counts, { ...ZERO, skipped: 1 });
    else counts = add(counts, { ...ZERO, passed: 1 });
  }
  return counts;
}

/** Counts one JUnit XML document; throws with a reason when it is not one. */
export function parseJUnit(xml: string): TestCounts {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    throw new Error(`invalid XML at line ${valid.err.line}: ${valid.err.msg}`);
  }
  const document = parser.parse(xml) as Node;
  const roots = children(document, "testsuites");
  const suites = children(document, "testsuite");
  if (roots.length === 0 && suites.length === 0) {
    throw new Error("no <testsuites> or <testsuite> element");
  }
  let counts = suites.map(countSuite).reduce(add, ZERO);
  for (const root of roots) {
    const inner = children(root, "testsuite");
    counts = add(counts, inner.length > 0 ? inner.map(countSuite).reduce(add, ZERO) : fromAttributes(root));
  }
  return counts;
}

/**
 * Reads the reports ReportFiles names under `cwd`. Unreadable reports are logged and skipped;
 * returns undefined when no report could be read.
 */
export async function collectTestReport(
  cwd: string,
  reportFiles: string,
  log: LogSink,
  ignore: readonly string[] = [],
  /** The job's workspace: a report that leads outside it (a planted link) is not read. */
  workspace?: string,
): Promise<TestCounts | undefined> {
  let files: string[];
  try {
    files = await matchFiles(cwd, parsePatterns(reportFiles), ignore);
  } catch (error) {
    log.system(`ReportFiles: ${(error as Error).message}`);
    return undefined;
  }
  if (files.length === 0) {
    log.system(`ReportFiles ${JSON.stringify(reportFiles)} matched no file: no test report`);
    return undefined;
  }
  let total: TestCounts | undefined;
  for (const file of files) {
    try {
      if (workspace !== undefined && (await realPathInside(workspace, path.join(cwd, file))) === null) {
        throw new Error("it leads outside the job's workspace");
      }
      const counts = parseJUnit(await readFile(path.join(cwd, file), "utf8"));
      total = add(total ?? ZERO, counts);
    } catch (error) {
      log.system(`Test report ${file} ignored: ${(error as Error).message}`);
    }
  }
  if (total) {
    log.system(`Test report: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  }
  return total;
}
