/**
 * The seam between the agent's runtime (registration, job loop, leases, cancels, logs, workspaces)
 * and what runs a job (the providers: Shell, Git, Webhook, custom handlers) plus the artifacts
 * module. The runtime prepares a JobContext, calls `provider.run`, then stores the outputs the
 * provider names and completes the job. Providers never talk to NATS.
 */
import type { ActionTypeId, FailureCause, FailureType, JobMessage, StoredArtifact } from "@sluice/protocol";
import type { JobUser } from "../exec/job-users";

/** Where a job's output goes; the runtime turns it into log chunks (PROTOCOL.md section 10). */
export interface LogSink {
  /** Bytes a process wrote, in order; may hold partial lines. */
  write(stream: "stdout" | "stderr", data: string | Uint8Array): void;
  /** One line of the agent's own narration (the command run, downloads, uploads…), without "\n". */
  system(line: string): void;
}

export interface JobContext {
  readonly job: JobMessage;
  /** A fresh directory for this job alone; the runtime removes it afterwards. */
  readonly workspace: string;
  /**
   * Input artifact name → the directory it was unpacked into (inside `workspace`), in the order of
   * `job.inputArtifacts`. The runtime has downloaded, verified and unpacked them already.
   */
  readonly inputs: ReadonlyMap<string, string>;
  readonly log: LogSink;
  /**
   * Aborted when the job must stop now: cancel, timeout, lost lease, revoked token, drain limit.
   * `signal.reason` is a StopReason. A provider then kills everything it started (the whole
   * process group: SIGTERM, SIGKILL after TIMINGS.cancelGraceSeconds) and returns promptly; what it
   * returns after an abort is ignored.
   */
  readonly signal: AbortSignal;
  /** The agent's own settings a provider may need. */
  readonly agent: { readonly id: string; readonly name: string; readonly pool: string };
  /**
   * The unprivileged user the job's processes run as (a root agent); absent: the agent's own user.
   * Whatever a provider makes in the workspace before a process runs is given to this user, and
   * every process it starts runs as it (`runProcess({ user })`).
   */
  readonly user?: JobUser;
}

export interface StopReason {
  kind: "Cancelled" | "TimedOut" | "Fenced" | "Revoked" | "Shutdown";
  /** For the summary: "Cancelled: Abandoned", "timed out after 5 minutes", … */
  message: string;
}

/** What an output artifact is made of: files under `root`, by relative path (all of `root` when absent). */
export interface OutputSpec {
  root: string;
  files?: readonly string[];
}

export interface ProviderResult {
  outcome: "Succeeded" | "Failed";
  /** ≤ 2,048 characters; shown as the action's summary. */
  summary: string;
  /** Failed only; JobFailed when absent. */
  failureType?: FailureType;
  /** Failed only: why (PROTOCOL.md 8.1); ActionFailed when absent. */
  failureCause?: FailureCause;
  errorDetails?: { message: string; code?: string };
  externalUrl?: string;
  outputVariables?: Record<string, string>;
  /** Succeeded only: one entry per `job.outputArtifacts` name. A missing one fails the job (ConfigurationError). */
  outputs?: Record<string, OutputSpec>;
  testReport?: { passed: number; failed: number; skipped: number };
}

export interface Provider {
  readonly id: ActionTypeId;
  run(context: JobContext): Promise<ProviderResult>;
}

/** The attempt an artifact request is for, and the proof that the agent received it (its lease token). */
export interface JobLease {
  jobId: string;
  attempt: number;
  leaseToken: string;
}

/** Moves a job's artifacts between its workspace and the object store, through the server (PROTOCOL.md 9.3). */
export interface ArtifactStore {
  /**
   * Downloads `artifact`, verifies its size and SHA-256, and unpacks it into `destination` (created
   * if missing). Throws ArtifactError: RevisionUnavailable (missing, wrong size or hash),
   * ConfigurationError (an unsafe entry: nothing is written outside `destination`),
   * SystemUnavailable (the store cannot be reached).
   */
  download(artifact: StoredArtifact, destination: string, lease: JobLease): Promise<void>;
  /**
   * Packs `spec` as a tar.gz, uploads it as the job's output `name` (the server names the object,
   * `<executionId>/<jobId>/<attempt>/<name>`), and returns what the complete reports.
   */
  upload(name: string, spec: OutputSpec, lease: JobLease): Promise<StoredArtifact>;
}

export class ArtifactError extends Error {
  override readonly name = "ArtifactError";
  constructor(
    readonly failureType: FailureType,
    message: string,
    /** The NATS error behind it, when there is one: runtime/retry.ts decides from it. */
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** `Build/Sluice/Shell@1` → its ActionTypeId; the form pipeline documents and `--providers` use. */
export function parseActionTypeId(text: string): ActionTypeId {
  const match =
    /^(Source|Build|Test|Deploy|Approval|Invoke)\/(Sluice|Custom)\/([A-Za-z0-9_-]{1,35})@([A-Za-z0-9_-]{1,9})$/.exec(
      text.trim(),
    );
  if (!match) {
    throw new Error(
      `${JSON.stringify(text)} is not an action type: write Category/Owner/Provider@Version, e.g. Build/Sluice/Shell@1`,
    );
  }
  return {
    category: match[1] as ActionTypeId["category"],
    owner: match[2] as ActionTypeId["owner"],
    provider: match[3]!,
    version: match[4]!,
  };
}

export function formatActionTypeId(id: ActionTypeId): string {
  return `${id.category}/${id.owner}/${id.provider}@${id.version}`;
}
