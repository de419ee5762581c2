/**
 * `Build|Test|Deploy/Sluice/Shell@1`: runs the Commands configuration as one bash script (errexit
 * and pipefail on) in the first input artifact's directory, echoing each command just before it
 * runs (command-echo.ts), then collects output artifacts and, for Test, JUnit reports.
 */
import path from "node:path";
import type { ActionTypeId } from "@sluice/protocol";
import { runProcess } from "../exec/process";
import { ECHO_TRAP, commandEchoSink } from "./command-echo";
import {
  INTERNAL_DIR,
  configurationError,
  isResult,
  prepareJobEnvironment,
  readOutputVariables,
} from "./environment";
import { PatternError, planOutputs, resolveOutputs } from "./files";
import { collectTestReport, type TestCounts } from "./junit";
import { commandFailed, failed, guarded, stopped } from "./results";
import type { JobContext, Provider, ProviderResult } from "./types";

export type ShellCategory = "Build" | "Test" | "Deploy";

/** The directory commands run in: the first input's, else the workspace. */
export function workingDirectory(context: JobContext): string {
  for (const input of context.job.inputArtifacts) {
    const dir = context.inputs.get(input.name);
    if (dir !== undefined) return dir;
  }
  const first = context.inputs.values().next();
  return first.done ? context.workspace : first.value;
}

/** Patterns to keep the provider's own files out of globs and whole-directory artifacts. */
export function internalExcludes(context: JobContext, cwd: string): string[] {
  return path.resolve(cwd) === path.resolve(context.workspace) ? [INTERNAL_DIR] : [];
}

export function createShellProvider(category: ShellCategory): Provider {
  const id: ActionTypeId = { category, owner: "Sluice", provider: "Shell", version: "1" };
  return {
    id,
    run(context: JobContext): Promise<ProviderResult> {
      return guarded(async () => {
        const { job, log } = context;
        const commands = job.configuration.Commands;
        if (commands === undefined || commands.trim() === "") {
          return configurationError("Commands is required: the shell commands to run, one per line");
        }
        const declared = job.outputArtifacts.map((o) => o.name);
        const plan = planOutputs(job.configuration.OutputFiles, declared);
        if (!plan.ok) return configurationError(plan.message);

        const prepared = await prepareJobEnvironment(
          context,
          {},
          { "commands.sh": `${ECHO_TRAP}${commands.endsWith("\n") ? commands : `${commands}\n`}` },
        );
        if (isResult(prepared)) return prepared;
        const cwd = workingDirectory(context);
        const excludes = internalExcludes(context, cwd);
        const script = path.join(prepared.internalDir, "commands.sh");

        log.system(`Running commands in ${cwd}`);
        const result = await runProcess({
          argv: ["bash", "--noprofile", "--norc", "-eo", "pipefail", script],
          cwd,
          env: prepared.env,
          log: commandEchoSink(log), // each command as a system line `$ …` just before it runs
          signal: context.signal,
          ...(context.user ? { user: context.user } : {}),
        });
        if (result.aborted || context.signal.aborted) return stopped(context);

        let testReport: TestCounts | undefined;
        if (category === "Test" && job.configuration.ReportFiles?.trim()) {
          testReport = await collectTestReport(
            cwd,
            job.configuration.ReportFiles,
            log,
            excludes.map((e) => `${e}/**`),
            context.workspace,
          );
        }
        const variables = await readOutputVariables(prepared.outputFile, log, context.workspace);
        const extras = {
          ...(testReport ? { testReport } : {}),
          ...(Object.keys(variables.variables).length > 0 ? { outputVariables: variables.variables } : {}),
        };

        if (result.exitCode !== 0) return { ...commandFailed("Commands", result), ...extras };
        if (variables.error)
          return {
            ...failed("JobFailed", variables.error, "OutputVariablesTooLarge", undefined, "OutputTooLarge"),
            ...extras,
          };

        let outputs;
        try {
          outputs = await resolveOutputs(plan.patterns, declared, cwd, excludes);
        } catch (error) {
          if (error instanceof PatternError) return { ...configurationError(error.message), ...extras };
          throw error;
        }
        if (!outputs.ok)
          return {
            ...configurationError(outputs.message, "OutputArtifactMissing", "ArtifactMissing"),
            ...extras,
          };

        const summary = testReport
          ? `Commands succeeded; tests: ${testReport.passed} passed, ${testReport.failed} failed, ${testReport.skipped} skipped`
          : "Commands succeeded";
        return { outcome: "Succeeded", summary, outputs: outputs.outputs, ...extras };
      });
    },
  };
}
