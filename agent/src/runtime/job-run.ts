/**
 * One job on this agent, from the moment its message was decoded to its stored complete
 * (PROTOCOL.md 6.2–6.4): cancel check, accept, +ACK, job heartbeats with self-fencing, inputs, the
 * provider, outputs, logs, complete. Every way a job can stop early (cancel, timeout, lost lease,
 * revoked token, shutdown) goes through one AbortController whose reason is a StopReason.
 */
import path from "node:path";
import type { JetStreamClient, JetStreamManager, JsMsg, PubAck } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import {
  LIMITS,
  PROTOCOL_VERSION,
  TIMINGS,
  decode,
  encode,
  msgIdNames,
  msgIds,
  type FailureCause,
  type FailureType,
  type JobMessage,
  type MessageInput,
  type NatsNames,
  type SealKeyPair,
  type StoredArtifact,
} from "@sluice/protocol";
import { giveTree, killAllOf, realPathInside, type JobUser, type JobUsers } from "../exec/job-users";
import { mayStillRunAs } from "../exec/process";
import { SecretMasker } from "../logs/secret-mask";
import { fetchSecrets, hasSecrets, replaceStoreReferences, SecretsRefused } from "./secrets";
import {
  HostReferenceError,
  hasHostReferences,
  resolveHostReferences,
  type HostSecrets,
} from "./host-references";
import type { Logger } from "../logger";
import { JobLog } from "../logs/log-sink";
import { INTERNAL_DIR } from "../providers/environment";
import {
  ArtifactError,
  formatActionTypeId,
  type ArtifactStore,
  type JobContext,
  type JobLease,
  type Provider,
  type ProviderResult,
  type StopReason,
} from "../providers/types";
import { isRetryable, retrying } from "./retry";
import { Backoff, errorMessage, sleep } from "./util";
import type { ServerKeys } from "./server-keys";
import { makeWorkspaceSync, removeTree } from "./workspace";
import { extractTraceHeaders, inSpan, SpanKind, traceHeaders, tracer } from "../tracing";

/** What a job needs from the agent that runs it. */
export interface JobHost {
  readonly names: NatsNames;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Core NATS, for the job's secrets request (5.11). */
  readonly nc: NatsConnection;
  /** The agent's x25519 key pair: its public key was registered, its private key opens secrets. */
  readonly sealKeys: SealKeyPair;
  /** What `{{resolve:agent-env:…}}` and `{{resolve:agent-file:…}}` may read on this host. */
  readonly hostSecrets: HostSecrets;
  readonly logger: Logger;
  readonly agent: {
    readonly id: string;
    readonly name: string;
    readonly pool: string;
    readonly version: string;
  };
  readonly workDir: string;
  /** The users jobs run as (a root agent); null: the agent's own user. */
  readonly jobUsers: JobUsers | null;
  readonly logCapBytes: number;
  /** True once the agent drains: a job not yet accepted goes back to the queue. */
  readonly draining: boolean;
  /** Aborted when retries of logs and the complete should give up (the agent is leaving). */
  readonly giveUp: AbortSignal;
  artifacts(): Promise<ArtifactStore>;
  /** Milliseconds per minute of `timeoutInMinutes`: 60,000 except in tests that cannot wait minutes. */
  readonly minuteMs: number;
  /** The keys that sign the server's jobs and cancels (PROTOCOL.md 11.5). */
  readonly serverKeys: ServerKeys;
}

/** How long to wait for a JetStream acknowledgement before publishing again. */
const PUBLISH_TIMEOUT_MS = 5000;
/** After an abort, how long a provider gets to return before the runtime stops waiting for it. */
const PROVIDER_STOP_WAIT_MS = (TIMINGS.cancelGraceSeconds + 2) * 1000;

interface Outcome {
  outcome: "Succeeded" | "Failed";
  summary: string;
  failureType?: FailureType;
  /** Failed only: why (PROTOCOL.md 8.1); ActionFailed when absent. */
  failureCause?: FailureCause;
  errorDetails?: { message: string; code?: string };
  externalUrl?: string;
  outputVariables?: Record<string, string>;
  outputArtifacts?: StoredArtifact[];
  testReport?: { passed: number; failed: number; skipped: number };
}

export class JobRun {
  readonly key: string;
  /** Accepted and not yet completed: listed in the agent heartbeat's `running`. */
  accepted = false;
  private readonly controller = new AbortController();
  private readonly finished = new AbortController();
  private readonly log: Logger;
  private jobLog: JobLog | null = null;
  private lastStoredHeartbeat = 0;
  private fenceTimer: NodeJS.Timeout | null = null;
  private timeoutTimer: NodeJS.Timeout | null = null;
  /** The +ACK's confirmation, awaited at the end of the run rather than before the work. */
  private ackConfirmed: Promise<void> = Promise.resolve();
  /** The job heartbeat loop, started right after the +ACK. */
  private heartbeats: Promise<void> = Promise.resolve();
  private workspaceRemoved: Promise<void> | null = null;
  /** The user the job's processes run as, from the workspace's making on (a root agent). */
  private user: JobUser | undefined;
  /** At debug level: [step, ms since the job was received], logged with "job timings". */
  private readonly timings: [string, number][] | null;
  private readonly receivedAt = performance.now();
  /** The job's secret values once opened: hidden in its log and in what it reports. */
  private secretMask: SecretMasker | null = null;

  /** The outcome this run reported to the server (null until then, and when it never did). */
  reported: Outcome["outcome"] | null = null;

  constructor(
    private readonly host: JobHost,
    readonly job: JobMessage,
    private readonly provider: Provider,
    /** The agent id this job is accepted, heartbeaten and completed under. */
    readonly agentId: string,
  ) {
    this.key = jobKey(job.jobId, job.attempt);
    this.log = host.logger.child({ jobId: job.jobId, attempt: job.attempt });
    this.timings = this.log.isLevelEnabled("debug") ? [] : null;
  }

  /** Records when a step of the job ended (debug level only). */
  private mark(step: string): void {
    this.timings?.push([step, Math.round((performance.now() - this.receivedAt) * 100) / 100]);
  }

  get stopReason(): StopReason | null {
    return this.controller.signal.aborted ? (this.controller.signal.reason as StopReason) : null;
  }

  /** Stops the job (the first reason wins); the provider sees it through its AbortSignal. */
  stop(reason: StopReason): void {
    if (this.controller.signal.aborted || this.finished.signal.aborted) return;
    this.log.info({ reason: reason.kind }, `stopping the job: ${reason.message}`);
    this.controller.abort(reason);
  }

  /** Applies a cancel from either path if it names this attempt (6.3). */
  applyCancel(jobId: string, attempt: number, reason: string): boolean {
    if (jobId !== this.job.jobId || attempt !== this.job.attempt) return false;
    this.stop({ kind: "Cancelled", message: `Cancelled: ${reason}` });
    return true;
  }

  /** Reads the last message of `<p>.cancel.<jobId>` and applies it. Throws when it cannot be read. */
  async checkCancel(): Promise<void> {
    const subject = this.host.names.subjects.cancel(this.job.jobId);
    const stored = await this.host.jsm.direct.getMessage(this.host.names.streams.cancel, {
      last_by_subj: subject,
    });
    if (!stored) return;
    // Only what the server signed for this very subject (11.5): JetStream can be made to write here.
    const signature = this.host.serverKeys.check(stored.header, subject, stored.data);
    if (!signature.ok) {
      this.log.warn(
        { subject, reason: signature.reason, err: signature.message },
        "ignoring a cancel the server did not sign",
      );
      return;
    }
    const decoded = decode("cancel", stored.data, subject);
    if (!decoded.ok) {
      this.log.warn({ subject, err: decoded.error.message }, "ignoring an invalid cancel");
      return;
    }
    const { jobId, attempt, reason } = decoded.message;
    if (!msgIdNames(signature.msgId, msgIds.cancel(jobId, attempt))) {
      this.log.warn({ subject, msgId: signature.msgId }, "ignoring a cancel whose id names another job");
      return;
    }
    this.applyCancel(jobId, attempt, reason);
  }

  /**
   * True when the attempt's log already has a chunk: an agent accepted the job and started it,
   * and this delivery is a duplicate. The log subject is the attempt's own (`jobId` is the action
   * execution), and the first chunk leaves right after the accept.
   */
  private async loggedAlready(): Promise<boolean> {
    const subject = this.host.names.subjects.log(this.job.jobId);
    const last = await this.host.jsm.streams.getMessage(this.host.names.streams.logs, {
      last_by_subj: subject,
    });
    if (!last) return false;
    const decoded = decode("logChunk", last.data, subject);
    return !decoded.ok || decoded.message.attempt === this.job.attempt;
  }

  /**
   * Whether the accept the stream already held (it answered our publish as a duplicate, at `seq`)
   * is this run's own: a try whose answer was lost. A duplicate on the first try is never ours; on
   * a later one, the stored accept is ours when it is our payload, byte for byte (its `startedAt`
   * is this run's). When it cannot be read, it is taken as another's: not starting the job can
   * only delay it (the server's lease ends and it retries), starting it could run it twice.
   */
  private async ownAccept(seq: number, payload: Uint8Array, tries: number): Promise<boolean> {
    if (tries === 1) return false;
    try {
      const original = await retrying(
        () => this.host.jsm.streams.getMessage(this.host.names.streams.results, { seq }),
        { signal: this.controller.signal, forMs: this.job.leaseSeconds * 1000 },
      );
      return original !== null && Buffer.from(original.data).equals(Buffer.from(payload));
    } catch (error) {
      this.log.warn({ err: errorMessage(error), seq }, "cannot read the stored accept of this job");
      return false;
    }
  }

  /** Runs the job message to its end; never throws. */
  async execute(msg: JsMsg): Promise<void> {
    // A span for the whole job, in the trace of the engine transaction that dispatched it (the
    // context rides in the job message's headers, outside its signature); no-op when tracing is off.
    const { job } = this;
    await inSpan(
      "job received",
      {
        "sluice.job.id": job.jobId,
        "sluice.job.attempt": job.attempt,
        "sluice.execution.id": job.executionId,
        "sluice.pipeline.name": job.pipelineName,
        "sluice.stage.name": job.stageName,
        "sluice.action.name": job.actionName,
        "sluice.action.type": formatActionTypeId(job.actionTypeId),
        "sluice.agent.id": this.agentId,
      },
      async (span) => {
        await this.executeTraced(msg);
        span.setAttribute("sluice.job.outcome", this.reported ?? "not reported");
      },
      { kind: SpanKind.CONSUMER, parent: extractTraceHeaders(msg.headers) },
    );
  }

  private async executeTraced(msg: JsMsg): Promise<void> {
    // The workspace is made while the cancel check and the accept travel: a local directory, not
    // work the server could see, removed at once when the job is not taken.
    const workspace = inSpan("job workspace", {}, () => this.makeWorkspace());
    workspace.catch(() => undefined);
    try {
      if (await this.admit(msg)) await this.runAccepted(workspace);
    } catch (error) {
      this.log.error({ err: error }, "job runtime failed");
    } finally {
      this.finished.abort();
      this.clearTimers();
      await this.removeWorkspace(workspace);
      await Promise.all([this.ackConfirmed, this.heartbeats]);
      if (this.timings) {
        const receivedAt = Math.round((performance.timeOrigin + this.receivedAt) * 100) / 100;
        this.log.debug({ receivedAt, timings: Object.fromEntries(this.timings) }, "job timings");
      }
    }
  }

  /**
   * A fresh directory under the work directory, with the private directory of the providers and
   * one directory per input artifact already made (all of it empty and local). Made once the
   * cancel check's request is on its way (setImmediate runs after the microtask that writes it),
   * while the admission waits for the network.
   */
  private makeWorkspace(): Promise<string> {
    const { job, host } = this;
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        try {
          this.user = host.jobUsers?.acquire();
          resolve(
            makeWorkspaceSync(
              host.workDir,
              `${job.jobId}-${job.attempt}-`,
              [
                path.join(INTERNAL_DIR, "tmp"),
                ...job.inputArtifacts.map((artifact) => path.join("inputs", artifact.name)),
              ],
              this.user,
            ),
          );
        } catch (error) {
          this.releaseUser();
          reject(error as Error);
        }
      });
    });
  }

  /** Removes the workspace once, however many times it is asked to. */
  private removeWorkspace(workspace: Promise<string>): Promise<void> {
    this.workspaceRemoved ??= this.removeWorkspaceNow(workspace);
    return this.workspaceRemoved;
  }

  private async removeWorkspaceNow(workspace: Promise<string>): Promise<void> {
    let dir: string;
    try {
      dir = await workspace;
    } catch {
      return;
    }
    // Whatever still runs under the job's own uid (a provider that did not return after a stop)
    // ends before its workspace goes and the uid serves another job. Each command's end already
    // killed every process of the uid: only a command still running needs it again (a spawn per
    // job saved).
    if (this.user?.exclusive && mayStillRunAs(this.user)) await killAllOf(this.user);
    await removeTree(dir).catch((error: unknown) => {
      this.log.warn({ err: errorMessage(error), workspace: dir }, "cannot remove the job's workspace");
    });
    this.releaseUser();
  }

  /** The job's user may serve another job (its workspace is gone, its processes were killed). */
  private releaseUser(): void {
    if (this.user) this.host.jobUsers?.release(this.user);
    this.user = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // Before the accept: is the job still wanted? (6.2 steps 3–4)

  private async admit(msg: JsMsg): Promise<boolean> {
    const { job, host } = this;
    let taken: boolean;
    try {
      [, taken] = await Promise.all([this.checkCancel(), this.loggedAlready()]);
      this.mark("cancelChecked");
    } catch (error) {
      // Without knowing whether it was cancelled, the job is not started; it comes back soon.
      this.log.warn({ err: errorMessage(error) }, "cannot read the job's cancel subject; returning the job");
      msg.nak(2000);
      return false;
    }
    if (taken) {
      // Delivered again although an agent already runs (or ran) it: NATS lost the +ACK, e.g. it
      // restarted after a crash. Starting it again would run its commands twice (6.5).
      this.log.warn("dropping a job another agent already started (its log exists)");
      msg.ack();
      return false;
    }
    const reason = this.stopReason;
    if (reason && reason.kind === "Cancelled") {
      this.log.info({ reason: reason.message }, "dropping a job cancelled before it started");
      msg.ack();
      return false;
    }
    if (reason || this.host.draining) {
      msg.nak();
      return false;
    }
    const age = Date.now() - Date.parse(job.dispatchedAt);
    if (age > job.timeoutInMinutes * host.minuteMs) {
      this.log.info({ dispatchedAt: job.dispatchedAt }, "dropping a job that has timed out on the server");
      msg.ack();
      return false;
    }

    const accept: MessageInput<"accept"> = {
      protocolVersion: PROTOCOL_VERSION,
      jobId: job.jobId,
      attempt: job.attempt,
      leaseToken: job.leaseToken,
      agent: { id: this.agentId, name: this.host.agent.name, version: this.host.agent.version },
      startedAt: new Date().toISOString(),
    };
    const subject = this.host.names.subjects.accept;
    const payload = encode("accept", accept, subject);
    // The accept's id is the attempt's, whoever sends it: the first accept stored is the claim on
    // the job, and an agent whose accept the stream calls a duplicate must not start it (6.5).
    const msgID = msgIds.accept(job.jobId, job.attempt);
    // Retried with the same id while NATS is away (it may have stored a try whose answer was
    // lost: then the server holds our lease, and handing the job back would lose it), for as long
    // as a lease; the job message is kept meanwhile.
    let tries = 0;
    let stored: PubAck;
    try {
      stored = await retrying(
        () => {
          tries += 1;
          return this.host.js.publish(subject, payload, {
            msgID,
            timeout: PUBLISH_TIMEOUT_MS,
            ...traceHeaders(),
          });
        },
        {
          signal: this.controller.signal,
          forMs: job.leaseSeconds * 1000,
          onRetry: (error) => {
            this.log.warn({ err: errorMessage(error) }, "the accept was not stored; retrying");
            msg.working();
          },
        },
      );
    } catch (error) {
      this.log.warn({ err: errorMessage(error) }, "the accept was not stored; returning the job");
      msg.nak();
      return false;
    }
    if (stored.duplicate && !(await this.ownAccept(stored.seq, payload, tries))) {
      // Delivered again although it was accepted (NATS lost the +ACK: it crashed, or restarted
      // from an old state) and maybe runs on another agent whose log is not stored yet.
      this.log.warn("dropping a job that was accepted already (its accept is stored)");
      msg.ack();
      return false;
    }
    this.mark("acceptStored");
    // The server's lease starts when it processes the accept: count from now.
    this.lastStoredHeartbeat = Date.now();
    this.accepted = true;
    // The +ACK goes out now, after the stored accept (6.2 step 4); its confirmation only tells
    // whether to warn, so the work does not wait for it (the run awaits it before it ends).
    this.ackConfirmed = msg.ackAck({ timeout: PUBLISH_TIMEOUT_MS }).then(
      (confirmed) => {
        if (!confirmed) this.log.warn("the job's +ACK was not confirmed");
      },
      (error: unknown) => {
        // Redelivered to another agent at worst, which the server answers with a Duplicate cancel.
        this.log.warn({ err: errorMessage(error) }, "the job's +ACK was not confirmed");
      },
    );
    // The first job heartbeat (6.2 step 5) right behind the +ACK: both leave in one socket write.
    this.heartbeats = this.heartbeatLoop();
    return true;
  }

  // -------------------------------------------------------------------------------------------
  // After the accept

  private async runAccepted(workspacePromise: Promise<string>): Promise<void> {
    const { job, host } = this;
    const jobLog = new JobLog({
      jobId: job.jobId,
      attempt: job.attempt,
      capBytes: host.logCapBytes,
      publish: async (chunk) => {
        const subject = host.names.subjects.log(job.jobId);
        await host.js.publish(subject, encode("logChunk", chunk, subject), {
          msgID: msgIds.logChunk(chunk.jobId, chunk.attempt, chunk.sequence),
          timeout: PUBLISH_TIMEOUT_MS,
        });
      },
      onPublishError: (error, chunk) =>
        this.log.warn({ err: error.message, sequence: chunk.sequence }, "log chunk not stored; retrying"),
    });
    this.jobLog = jobLog;
    const onGiveUp = () => jobLog.abandon();
    host.giveUp.addEventListener("abort", onGiveUp, { once: true });

    this.log.info({ type: formatActionTypeId(job.actionTypeId) }, "job accepted");
    jobLog.system(
      `Job accepted on agent ${host.agent.name} (${this.agentId}): ${formatActionTypeId(job.actionTypeId)}, ` +
        `attempt ${job.attempt}`,
    );
    this.armFence();
    this.timeoutTimer = setTimeout(
      () =>
        this.stop({
          kind: "TimedOut",
          message: `timed out after ${job.timeoutInMinutes} minute${job.timeoutInMinutes === 1 ? "" : "s"}`,
        }),
      job.timeoutInMinutes * host.minuteMs,
    );

    let outcome: Outcome;
    try {
      const runJob = await this.withSecrets(jobLog);
      const workspace = await workspacePromise;
      this.mark("workspace");
      outcome = await this.work(workspace, jobLog, runJob);
    } catch (error) {
      outcome =
        error instanceof SecretsRefused
          ? failed(
              "ConfigurationError",
              "ConfigurationInvalid",
              `The server refused the job's secrets (${error.code}): ${error.message}`,
            )
          : error instanceof HostReferenceError
            ? failed(
                "ConfigurationError",
                "ConfigurationInvalid",
                `A secret reference cannot be resolved: ${error.message}`,
              )
            : {
                outcome: "Failed",
                failureType: "SystemUnavailable",
                failureCause: "WorkspaceError",
                summary: `The agent could not run the job: ${errorMessage(error)}`,
                errorDetails: { message: errorMessage(error) },
              };
    }
    this.mark("workDone");

    // A stop that came while outputs were being stored still wins: never report a fenced success.
    const stopped = this.stopReason;
    if (stopped && outcome.outcome === "Succeeded") outcome = stoppedOutcome(stopped);
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);

    jobLog.system(
      outcome.outcome === "Succeeded"
        ? `Job succeeded${outcome.summary ? `: ${outcome.summary}` : ""}`
        : `Job failed (${outcome.failureType ?? "JobFailed"}): ${outcome.summary}`,
    );
    const lastLogSequence = await jobLog.close();
    this.mark("logsStored");
    host.giveUp.removeEventListener("abort", onGiveUp);
    await inSpan("job complete", { "sluice.job.outcome": outcome.outcome }, () =>
      this.complete(outcome, lastLogSequence),
    );
    this.mark("completeStored");
    this.finished.abort();
    // Removed once the complete is out (the server's next dispatch does not wait for it); the slot
    // is freed after that.
    await Promise.all([this.heartbeats, this.removeWorkspace(workspacePromise)]);
    this.mark("workspaceRemoved");
  }

  /**
   * The job with its secret values in its configuration, opened in memory (5.11); the log hides
   * them from here on. The job itself when it has none.
   */
  private async withSecrets(jobLog: JobLog): Promise<JobMessage> {
    const { job, host } = this;
    const sealed = hasSecrets(job);
    if (!sealed && !hasHostReferences(job.configuration)) return job;
    const opened = sealed
      ? await fetchSecrets(
          host.nc,
          host.names,
          host.sealKeys,
          job,
          this.agentId,
          this.controller.signal,
          (why) => this.log.warn({ why }, "the job's secrets did not arrive; asking again"),
        )
      : { properties: {}, references: new Map<string, string>() };
    const values = opened.properties;
    // References to this host's secrets are resolved once the server's values are in place, and
    // those to the server's secret store last (a stored value is never read as a reference).
    const onHost = resolveHostReferences({ ...job.configuration, ...values }, host.hostSecrets);
    const configuration = replaceStoreReferences(onHost.configuration, opened.references);
    const hidden = [...Object.values(values), ...opened.references.values(), ...onHost.values];
    this.secretMask = new SecretMasker(hidden);
    jobLog.maskSecrets(hidden);
    this.mark("secrets");
    if (sealed)
      jobLog.system(
        `Opened ${Object.keys(values).length + opened.references.size} secret value(s) sealed for this agent`,
      );
    if (onHost.values.length > 0)
      jobLog.system(`Resolved ${onHost.values.length} secret reference(s) on this host`);
    return { ...job, configuration };
  }

  /** Downloads the job's input artifacts into the workspace; null, or the outcome that ends the job. */
  private async downloadInputs(
    workspace: string,
    jobLog: JobLog,
    inputs: Map<string, string>,
  ): Promise<Outcome | null> {
    const { job, host } = this;
    const signal = this.controller.signal;
    let store: ArtifactStore;
    try {
      store = await this.retryingStore(() => host.artifacts(), "opening the artifact store");
    } catch (error) {
      if (signal.aborted) return stoppedOutcome(this.stopReason!);
      return failed(
        "SystemUnavailable",
        "ArtifactStoreUnavailable",
        `The artifact store is unavailable: ${errorMessage(error)}`,
      );
    }
    // Several inputs download at once; the first failing one (in the job's order) is reported,
    // once every download has ended.
    if (signal.aborted) return stoppedOutcome(this.stopReason!);
    const downloads = job.inputArtifacts.map((artifact) => {
      jobLog.system(`Downloading artifact ${artifact.name} (${artifact.size} bytes)`);
      const destination = path.join(workspace, "inputs", artifact.name);
      const user = this.user;
      return this.retryingStore(
        () => store.download(artifact, destination, this.lease),
        `downloading artifact ${artifact.name}`,
      )
        .then(() => (user ? giveTree(destination, user) : undefined))
        .then(() => destination);
    });
    const settled = await Promise.allSettled(downloads);
    for (const [index, artifact] of job.inputArtifacts.entries()) {
      const result = settled[index]!;
      if (result.status === "rejected") {
        if (signal.aborted) return stoppedOutcome(this.stopReason!);
        return artifactFailure(`Input artifact ${artifact.name}`, result.reason);
      }
      inputs.set(artifact.name, result.value);
    }
    this.mark("inputs");
    return null;
  }

  /** Inputs, the provider, outputs: the outcome of the job itself. */
  private async work(workspace: string, jobLog: JobLog, runJob: JobMessage): Promise<Outcome> {
    const { job, host } = this;
    const signal = this.controller.signal;
    const inputs = new Map<string, string>();
    if (job.inputArtifacts.length > 0) {
      const span = tracer.startSpan("job artifacts in", {
        attributes: { "sluice.artifacts.count": job.inputArtifacts.length },
      });
      try {
        const stopped = await this.downloadInputs(workspace, jobLog, inputs);
        if (stopped) {
          span.setAttribute("sluice.outcome", stopped.failureType ?? "Failed");
          return stopped;
        }
      } finally {
        span.end();
      }
    }
    if (signal.aborted) return stoppedOutcome(this.stopReason!);

    const context: JobContext = {
      job: runJob,
      workspace,
      inputs,
      log: jobLog,
      signal,
      agent: { id: this.agentId, name: host.agent.name, pool: host.agent.pool },
      ...(this.user ? { user: this.user } : {}),
    };
    const result = await inSpan(
      "job process run",
      { "sluice.action.type": formatActionTypeId(job.actionTypeId) },
      async (span) => {
        const ran = await this.runProvider(context);
        span.setAttribute("sluice.job.outcome", ran.outcome);
        return ran;
      },
    );
    this.mark("provider");
    if (signal.aborted) return stoppedOutcome(this.stopReason!);
    if (result.outcome === "Failed") {
      return {
        outcome: "Failed",
        summary: result.summary,
        failureType: result.failureType ?? "JobFailed",
        failureCause: result.failureCause ?? "ActionFailed",
        errorDetails: result.errorDetails,
        externalUrl: result.externalUrl,
        outputVariables: result.outputVariables,
        testReport: result.testReport,
      };
    }

    const missing = job.outputArtifacts
      .filter((a) => result.outputs?.[a.name] === undefined)
      .map((a) => a.name);
    if (missing.length > 0) {
      return failed(
        "ConfigurationError",
        "ArtifactMissing",
        `Declared output artifact${missing.length > 1 ? "s" : ""} ${missing.join(", ")} ${missing.length > 1 ? "were" : "was"} not produced`,
      );
    }
    const stored: StoredArtifact[] = [];
    if (job.outputArtifacts.length > 0) {
      const span = tracer.startSpan("job artifacts out", {
        attributes: { "sluice.artifacts.count": job.outputArtifacts.length },
      });
      try {
        const stopped = await this.uploadOutputs(workspace, jobLog, result, stored);
        if (stopped) {
          span.setAttribute("sluice.outcome", stopped.failureType ?? "Failed");
          return stopped;
        }
      } finally {
        span.end();
      }
    }
    return {
      outcome: "Succeeded",
      summary: result.summary,
      externalUrl: result.externalUrl,
      outputVariables: result.outputVariables,
      outputArtifacts: stored,
      testReport: result.testReport,
    };
  }

  /** Uploads the job's output artifacts into `stored`; null, or the outcome that ends the job. */
  private async uploadOutputs(
    workspace: string,
    jobLog: JobLog,
    result: ProviderResult,
    stored: StoredArtifact[],
  ): Promise<Outcome | null> {
    const { job, host } = this;
    const signal = this.controller.signal;
    let store: ArtifactStore;
    try {
      store = await this.retryingStore(() => host.artifacts(), "opening the artifact store");
    } catch (error) {
      if (signal.aborted) return stoppedOutcome(this.stopReason!);
      return failed(
        "SystemUnavailable",
        "ArtifactStoreUnavailable",
        `The artifact store is unavailable: ${errorMessage(error)}`,
      );
    }
    for (const { name } of job.outputArtifacts) {
      if (signal.aborted) return stoppedOutcome(this.stopReason!);
      // The agent packs as root what a job that ran as another user left: a link it planted on
      // the way must not make it pack what the job could not read.
      if (this.user && (await realPathInside(workspace, result.outputs![name]!.root)) === null) {
        return failed(
          "ConfigurationError",
          "ConfigurationInvalid",
          `Output artifact ${name}: its directory leads outside the job's workspace (a symbolic link)`,
        );
      }
      jobLog.system(`Uploading artifact ${name}`);
      try {
        // Uploading again replaces the object of the same name: a try cut off halfway is lost.
        const artifact = await this.retryingStore(
          () => store.upload(name, result.outputs![name]!, this.lease),
          `uploading artifact ${name}`,
        );
        jobLog.system(`Uploaded artifact ${name} (${artifact.size} bytes, sha256 ${artifact.sha256})`);
        stored.push(artifact);
      } catch (error) {
        if (signal.aborted) return stoppedOutcome(this.stopReason!);
        return artifactFailure(`Output artifact ${name}`, error);
      }
    }
    return null;
  }

  /**
   * An object store operation, again after a failure that passes with time (NATS away), until it
   * succeeds or the job is stopped (its lease lost, a cancel, a timeout): the work is done, only
   * storing it waits.
   */
  private retryingStore<T>(operation: () => Promise<T>, what: string): Promise<T> {
    return retrying(operation, {
      signal: this.controller.signal,
      onRetry: (error, attempt) => {
        this.log.warn({ err: errorMessage(error), attempt }, `${what} failed; retrying`);
        if (attempt === 1) this.jobLog?.system(`${what} failed (${errorMessage(error)}); retrying`);
      },
    });
  }

  /** What the job's artifact requests prove themselves with (PROTOCOL.md 9.3). */
  private get lease(): JobLease {
    return { jobId: this.job.jobId, attempt: this.job.attempt, leaseToken: this.job.leaseToken };
  }

  /** The provider's result; a throw is a bug in it (JobFailed with the message). */
  private async runProvider(context: JobContext): Promise<ProviderResult> {
    const signal = context.signal;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const gaveUp = new Promise<"late">((resolve) => {
      onAbort = () => {
        timer = setTimeout(() => resolve("late"), PROVIDER_STOP_WAIT_MS);
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const settled = await Promise.race([
        this.provider.run(context).then(
          (result) => ({ result }),
          (error: unknown) => ({ error }),
        ),
        gaveUp,
      ]);
      if (settled === "late") {
        this.log.warn("the provider did not return after the job was stopped; going on without it");
        return { outcome: "Failed", summary: "stopped" };
      }
      if ("error" in settled) {
        if (!signal.aborted) this.log.error({ err: settled.error }, "the provider threw");
        return {
          outcome: "Failed",
          failureType: "JobFailed",
          failureCause: "ProviderError",
          summary: `The ${formatActionTypeId(this.job.actionTypeId)} provider failed: ${errorMessage(settled.error)}`,
          errorDetails: { message: errorMessage(settled.error) || "unknown error" },
        };
      }
      return settled.result;
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener("abort", onAbort);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Heartbeats, fencing, complete

  /** A heartbeat at once, then every interval, each also reading the cancel subject (6.3). */
  private async heartbeatLoop(): Promise<void> {
    const { job, host } = this;
    const intervalMs = job.heartbeatIntervalSeconds * 1000;
    const subject = host.names.subjects.heartbeat;
    // After a heartbeat that was not stored, the next one leaves sooner (backoff up to the
    // interval): NATS back from an outage should see us again within a second, not an interval.
    const backoff = new Backoff(250, Math.min(2000, intervalMs));
    while (!this.finished.signal.aborted) {
      const sentAt = Date.now();
      let storedNow = false;
      // The cancel subject is read with every heartbeat (6.3), sent along with it.
      const cancelRead = this.checkCancel().catch((error: unknown) =>
        this.log.debug({ err: errorMessage(error) }, "cannot read the cancel subject"),
      );
      try {
        const payload = encode(
          "heartbeat",
          {
            jobId: job.jobId,
            attempt: job.attempt,
            leaseToken: job.leaseToken,
            agentId: this.agentId,
            at: new Date(sentAt).toISOString(),
          },
          subject,
        );
        await host.js.publish(subject, payload, { timeout: Math.min(PUBLISH_TIMEOUT_MS, intervalMs) });
        // Counted from when it was sent: the server may have processed it any time after.
        this.lastStoredHeartbeat = Math.max(this.lastStoredHeartbeat, sentAt);
        this.armFence();
        storedNow = true;
        backoff.reset();
      } catch (error) {
        if (!this.finished.signal.aborted)
          this.log.warn(
            { err: errorMessage(error), retryable: isRetryable(error) },
            "job heartbeat not stored; sending the next one sooner",
          );
      }
      if (this.finished.signal.aborted) break;
      await cancelRead;
      const wait = storedNow ? sentAt + intervalMs - Date.now() : backoff.next();
      await sleep(Math.max(0, wait), this.finished.signal);
    }
  }

  /** Self-fencing (6.4): no heartbeat stored for leaseSeconds means the server has given up on us. */
  private armFence(): void {
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    if (this.finished.signal.aborted) return;
    const leaseMs = this.job.leaseSeconds * 1000;
    this.fenceTimer = setTimeout(
      () => {
        if (Date.now() - this.lastStoredHeartbeat >= leaseMs) {
          this.stop({
            kind: "Fenced",
            message: `Cancelled: lease lost (no job heartbeat was stored for ${this.job.leaseSeconds} s)`,
          });
        } else this.armFence();
      },
      Math.max(0, this.lastStoredHeartbeat + leaseMs - Date.now()),
    );
  }

  private clearTimers(): void {
    if (this.fenceTimer) clearTimeout(this.fenceTimer);
    if (this.timeoutTimer) clearTimeout(this.timeoutTimer);
    this.fenceTimer = this.timeoutTimer = null;
  }

  /** Publishes the complete, with the same id, until the stream stored it (or the agent gives up). */
  private async complete(outcome: Outcome, lastLogSequence: number): Promise<void> {
    this.reported = outcome.outcome;
    const { job, host } = this;
    const subject = host.names.subjects.complete;
    const message = this.completeMessage(outcome, lastLogSequence);
    let payload: Uint8Array;
    try {
      payload = encode("complete", message, subject);
    } catch (error) {
      // The provider reported something the protocol refuses (a bad variable name, a URL): say so.
      this.log.error({ err: errorMessage(error) }, "the job's result is not a valid complete");
      payload = encode(
        "complete",
        this.completeMessage(
          failed(
            "JobFailed",
            "ProviderError",
            `The job's result could not be reported: ${errorMessage(error)}`,
          ),
          lastLogSequence,
        ),
        subject,
      );
    }
    const msgID = msgIds.complete(job.jobId, job.attempt, this.agentId);
    const backoff = new Backoff(250, 5000);
    for (;;) {
      try {
        await host.js.publish(subject, payload, { msgID, timeout: PUBLISH_TIMEOUT_MS, ...traceHeaders() });
        this.log.info({ outcome: message.outcome, summary: message.summary }, "job completed");
        return;
      } catch (error) {
        if (host.giveUp.aborted) {
          this.log.error(
            { err: errorMessage(error) },
            "giving up on the job's complete: the agent is leaving",
          );
          return;
        }
        this.log.warn({ err: errorMessage(error) }, "the complete was not stored; retrying");
        await sleep(backoff.next(), host.giveUp);
      }
    }
  }

  private completeMessage(outcome: Outcome, lastLogSequence: number): MessageInput<"complete"> {
    const { job } = this;
    // What the job reports passes the same mask as its log: a secret it echoed stays hidden.
    const hide = (text: string) => this.secretMask?.mask(text) ?? text;
    const base = {
      jobId: job.jobId,
      attempt: job.attempt,
      leaseToken: job.leaseToken,
      agentId: this.agentId,
      summary: clip(hide(outcome.summary), LIMITS.summaryLength),
      externalUrl: outcome.externalUrl,
      outputVariables: Object.fromEntries(
        Object.entries(outcome.outputVariables ?? {}).map(([name, value]) => [name, hide(value)]),
      ),
      outputArtifacts: outcome.outputArtifacts ?? [],
      testReport: outcome.testReport,
      lastLogSequence,
      finishedAt: new Date().toISOString(),
    };
    if (outcome.outcome === "Succeeded") return { ...base, outcome: "Succeeded" };
    const details = outcome.errorDetails;
    return {
      ...base,
      outcome: "Failed",
      outputArtifacts: [],
      failureType: outcome.failureType ?? "JobFailed",
      failureCause: outcome.failureCause ?? "ActionFailed",
      errorDetails:
        details && details.message.length > 0
          ? {
              message: clip(hide(details.message), LIMITS.errorMessageLength),
              ...(details.code ? { code: clip(details.code, LIMITS.errorCodeLength) } : {}),
            }
          : undefined,
    };
  }
}

export function jobKey(jobId: string, attempt: number): string {
  return `${jobId}#${attempt}`;
}

/** The complete of a job stopped early (6.3): Failed, "Cancelled: …" or "timed out after N minutes". */
export function stoppedOutcome(reason: StopReason): Outcome {
  switch (reason.kind) {
    case "TimedOut":
      return failed("JobFailed", "TimedOut", reason.message, "TimedOut");
    case "Fenced":
      // Retryable: the job itself did not fail, the agent lost touch with the server.
      return failed("SystemUnavailable", "LeaseLost", reason.message, "Fenced");
    case "Shutdown":
      return failed("SystemUnavailable", "AgentShutdown", reason.message, "Shutdown");
    case "Revoked":
      return failed("JobFailed", "AgentRevoked", reason.message, "Revoked");
    case "Cancelled":
      return failed("JobFailed", "Cancelled", reason.message, "Cancelled");
  }
}

function failed(
  failureType: FailureType,
  failureCause: FailureCause,
  summary: string,
  code?: string,
): Outcome {
  return {
    outcome: "Failed",
    failureType,
    failureCause,
    summary,
    errorDetails: { message: summary, ...(code ? { code } : {}) },
  };
}

function artifactFailure(what: string, error: unknown): Outcome {
  if (error instanceof ArtifactError)
    return failed(error.failureType, ARTIFACT_CAUSES[error.failureType], `${what}: ${error.message}`);
  return failed("SystemUnavailable", "ArtifactStoreUnavailable", `${what}: ${errorMessage(error)}`);
}

/** The cause of an artifact store failure, by the failure type ArtifactError gives it. */
const ARTIFACT_CAUSES: Record<FailureType, FailureCause> = {
  RevisionUnavailable: "InputUnavailable",
  ConfigurationError: "ConfigurationInvalid",
  SystemUnavailable: "ArtifactStoreUnavailable",
  PermissionError: "ArtifactStoreUnavailable",
  RevisionOutOfSync: "InputUnavailable",
  JobFailed: "ActionFailed",
};

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
