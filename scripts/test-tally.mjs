// The numbers of `npm test`'s last line, `N passed, N failed`, from what each step and each workspace's
// jest run (scripts/jest-json-reporter.cjs) reported. A step that failed without failing a test (lint,
// the build, a type check) counts as one failed: the line never says `0 failed` when the run failed.

/**
 * @param {{ failedSteps: string[], testStepFailed: boolean, reports: object[], silentWorkspaces: string[] }} input
 *   failedSteps: the steps that failed outside jest (lint, build); testStepFailed: the typecheck-and-test
 *   step's exit; silentWorkspaces: workspaces with a test script whose jest run reported nothing.
 * @returns {{ passed: number, failed: number, pending: number, lines: string[] }} lines: one per report
 */
export function tally({ failedSteps, testStepFailed, reports, silentWorkspaces }) {
  let passed = 0;
  let testsFailed = 0;
  let pending = 0;
  const lines = [];
  for (const r of reports) {
    let f = r.numFailedTests + (r.numCrashedSuites ?? 0);
    if (!r.success && f === 0) f = 1; // jest failed the run for another reason (no tests found, ...)
    passed += r.numPassedTests;
    testsFailed += f;
    pending += r.numPendingTests ?? 0;
    const crashed = r.crashedSuites?.length ? `; suites that did not run: ${r.crashedSuites.join(", ")}` : "";
    lines.push(
      `${r.name}: ${r.numPassedTests} passed, ${f} failed, ${r.numPendingTests ?? 0} skipped${crashed}`,
    );
    for (const t of r.failedTests ?? []) {
      lines.push(`  failed: ${t.file} › ${t.name}`);
      if (t.message) lines.push(...t.message.split("\n").map((l) => `    ${l}`));
    }
  }
  testsFailed += silentWorkspaces.length;
  // typecheck and test failed with every test passing: a type check failed
  const typecheck = testStepFailed && testsFailed === 0 ? 1 : 0;
  return { passed, failed: failedSteps.length + testsFailed + typecheck, pending, lines };
}
