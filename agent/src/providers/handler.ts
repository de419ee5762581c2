/**
 * Custom action types: the agent's operator names a command per type (`createHandlerProvider`).
 * The command gets the job as a JSON file and one empty directory per output artifact to fill,
 * so a handler can be written in any language without speaking the protocol.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ActionTypeId } from "@sluice/protocol";
import { runProcess } from "../exec/process";
import { givePaths } from "../exec/job-users";
import { INTERNAL_DIR, isResult, prepareJobEnvironment, readOutputVariables } from "./environment";
import { commandFailed, failed, guarded, stopped } from "./results";
import {
  formatActionTypeId,
  type JobContext,
  type OutputSpec,
  type Provider,
  type ProviderResult,
} from "./types";

/** The JSON written to SLUICE_JOB_FILE. Holds the configuration, secrets included: mode 0600. */
export interface HandlerJobFile {
  actionType: string;
  jobId: string;
  attempt: number;
  executionId: string;
  pipelineName: string;
  stageName: string;
  actionName: string;
  configuration: Record<string, string>;
  /** Input artifact name → the directory holding its files. */
  inputs: Record<string, string>;
  /** Output artifact name → the empty directory to fill. */
  outputs: Record<string, string>;
  sourceRevision?: { actionName: string; revisionId: string; revisionSummary?: string; revisionUrl?: string };
  variables: Record<string, string>;
  workspace: string;
}

export function createHandlerProvider(id: ActionTypeId, command: string): Provider {
  const type = formatActionTypeId(id);
  if (command.trim() === "") throw new Error(`the handler command for ${type} is empty`);
  return {
    id,
    run(context: JobContext): Promise<ProviderResult> {
      return guarded(async () => {
        const { job, log, workspace } = context;
        const outputDirs: Record<string, string> = {};
        const extra: Record<string, string> = {};
        const outputsRoot = path.join(workspace, INTERNAL_DIR, "outputs");
        for (const { name } of job.outputArtifacts) {
          const dir = path.join(outputsRoot, name);
          mkdirSync(dir, { recursive: true });
          outputDirs[name] = dir;
          extra[`SLUICE_OUTPUT_DIR_${name}`] = dir;
          const alias = `SLUICE_OUTPUT_DIR_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
          if (!(alias in extra)) extra[alias] = dir;
        }
        const prepared = await prepareJobEnvironment(context, extra);
        if (isResult(prepared)) return prepared;
        if (job.outputArtifacts.length > 0)
          givePaths([outputsRoot, ...Object.values(outputDirs)], context.user);

        const jobFile = path.join(prepared.internalDir, "job.json");
        const content: HandlerJobFile = {
          actionType: type,
          jobId: job.jobId,
          attempt: job.attempt,
          executionId: job.executionId,
          pipelineName: job.pipelineName,
          stageName: job.stageName,
          actionName: job.actionName,
          configuration: job.configuration,
          inputs: Object.fromEntries(context.inputs),
          outputs: outputDirs,
          ...(job.sourceRevision ? { sourceRevision: job.sourceRevision } : {}),
          variables: job.context.variables,
          workspace,
        };
        writeFileSync(jobFile, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
        givePaths([jobFile], context.user);

        log.system(`Running handler for ${type}: ${command}`);
        const result = await runProcess({
          argv: ["bash", "--noprofile", "--norc", "-c", command],
          cwd: workspace,
          env: { ...prepared.env, SLUICE_JOB_FILE: jobFile },
          log,
          signal: context.signal,
          ...(context.user ? { user: context.user } : {}),
        });
        if (result.aborted || context.signal.aborted) return stopped(context);

        const variables = await readOutputVariables(prepared.outputFile, log, workspace);
        const extras =
          Object.keys(variables.variables).length > 0 ? { outputVariables: variables.variables } : {};
        if (result.exitCode !== 0) return { ...commandFailed("Handler", result), ...extras };
        if (variables.error)
          return {
            ...failed("JobFailed", variables.error, "OutputVariablesTooLarge", undefined, "OutputTooLarge"),
            ...extras,
          };

        const outputs: Record<string, OutputSpec> = {};
        for (const [name, dir] of Object.entries(outputDirs)) outputs[name] = { root: dir };
        return { outcome: "Succeeded", summary: "Handler succeeded", outputs, ...extras };
      });
    },
  };
}
