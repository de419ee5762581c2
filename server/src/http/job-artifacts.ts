import express, { type Request, type Response, type Router } from "express";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  isTransientNatsError,
  JOB_ARTIFACTS_PATHS,
  LEASE_TOKEN_HEADER,
  natsNames,
  type StoredArtifact,
} from "@sluice/protocol";
import { TRANSFER_JOB_ARTIFACTS, type Principal } from "../auth/principal";
import { attemptKeyPrefix } from "../domain/execution/output-artifacts";
import { actionDeclaration } from "../domain/execution/state";
import { untilAccepted, type JobEventSignals } from "../engine/job-event-signals";
import type { JobLeases } from "../engine/job-leases";
import type { Logger } from "../logger";
import { CorruptObject, openObject, putObject } from "../messaging/artifact-objects";
import type { NatsLink } from "../messaging/nats";
import type { AgentStore, AgentTokenRow } from "../persistence/agent-store";
import type { AuditStore } from "../persistence/audit-store";
import { isUnavailable } from "../persistence/unavailable";
import type { RefusedReads } from "../auth/refused-reads";
import { requireAgentPermission } from "./authorize";
import { sendError } from "./errors";

const DOWNLOAD = `GET ${JOB_ARTIFACTS_PATHS.input}`;
/** How long a request waits for the server to apply the job's accept before it answers 409. */
const ACCEPT_WAIT_MS = 3000;
/**
 * While it waits, a request checks again when an event about its job arrives (the accept applied,
 * by this server copy or another), and at least this often should that event not come.
 */
const ACCEPT_RECHECK_MS = 250;
const UPLOAD = `PUT ${JOB_ARTIFACTS_PATHS.output}`;

/**
 * A job's artifacts, moved by the agent that holds the job's lease (PROTOCOL.md 9.3): agents have
 * no access to the artifacts bucket on NATS; the server reads and writes it for them.
 *
 * - `GET /agents/jobs/<jobId>/<attempt>/inputs/<name>`: one of the input artifacts the attempt was
 *   dispatched with (those its action declares, as recorded in its execution), streamed from the
 *   object store; `x-object-size` and `x-object-sha256` say what is stored, the agent checks the
 *   bytes against what the job message recorded.
 * - `PUT /agents/jobs/<jobId>/<attempt>/outputs/<name>`: one of the outputs the action declares,
 *   streamed into the object `<executionId>/<jobId>/<attempt>/<name>` (no other name can be
 *   written); answers the stored artifact (name, objectKey, size, SHA-256 of the bytes stored).
 *
 * Both need the agent token of the agent whose lease runs on that attempt and the lease token
 * (engine/job-leases.ts); a download may also come before the server applied the accept, with the
 * lease token and an agent token of the pipeline's account. Anything else is refused (401, 403,
 * 404, or 409 while an upload's accept is on its way), and every refusal and every stored upload
 * is in the audit log.
 */
export function jobArtifactRoutes(
  agents: AgentStore,
  leases: JobLeases,
  nats: NatsLink,
  prefix: string,
  audit: AuditStore,
  logger: Logger,
  /** Where a refused agent token is counted for the audit log. */
  refusedReads?: RefusedReads,
  /** Wakes a request waiting for its job's accept (the events of every copy, and this copy's commits). */
  jobEvents?: JobEventSignals,
): Router {
  const router = express.Router();
  const bucket = natsNames(prefix).artifactsBucket;

  /** The audit row of an answer (refusals and stored uploads). */
  const record = async (
    req: Request,
    res: Response,
    operation: string,
    outcome: string,
    error: string | null,
    target: string | null,
  ) => {
    const principal = res.locals.principal as Principal;
    await audit
      .record({
        principal: principal.id,
        operation,
        pipelineName: null,
        target,
        arguments: {
          jobId: String(req.params.jobId),
          attempt: String(req.params.attempt),
          name: String(req.params.name),
        },
        outcome,
        error,
        requestId: (res.getHeader("x-request-id") as string | undefined) ?? null,
      })
      .catch((e: unknown) => logger.error({ err: (e as Error).message, operation }, "audit row not written"));
  };

  /** The lease check; on a refusal, answers it (audited) and returns null. */
  const leaseOf = async (req: Request, res: Response, operation: string) => {
    const token = res.locals.agentToken as AgentTokenRow;
    const header = req.headers[LEASE_TOKEN_HEADER];
    const leaseToken = typeof header === "string" ? header : "";
    const jobId = String(req.params.jobId);
    // A download may go ahead before the accept is applied (engine/job-leases.ts); an upload waits
    // a moment for it rather than send the agent into its backoff.
    const check = await untilAccepted(
      jobEvents,
      jobId,
      () =>
        leases.check(token, jobId, Number(req.params.attempt), leaseToken, {
          beforeAccept: operation === DOWNLOAD,
        }),
      (answer) => !answer.ok && answer.status === 409,
      { waitMs: ACCEPT_WAIT_MS, recheckMs: ACCEPT_RECHECK_MS, gone: () => req.socket.destroyed },
    );
    if (!check) return null;
    if (check.ok) return check;
    // Asked before the accept was applied: not a refusal, the agent asks again.
    if (check.status !== 409) await record(req, res, operation, check.code, check.message, null);
    sendError(res, check.status, check.code, check.message);
    return null;
  };

  const refuse = async (
    req: Request,
    res: Response,
    operation: string,
    status: 403 | 404,
    message: string,
  ) => {
    const code = status === 403 ? "FORBIDDEN" : "NOT_FOUND";
    await record(req, res, operation, code, message, null);
    sendError(res, status, code, message);
  };

  // No JetStream API check per request (one round trip more on every job's critical path): a
  // JetStream that does not answer fails the reads and writes themselves, answered 503 below.
  const connection = async () => {
    const nc = nats.nats;
    if (!nc || nc.isClosed()) return null;
    return { nc, jsm: await jetstreamManager(nc, { checkAPI: false }) };
  };

  /** An error the route did not answer: 503 when NATS or PostgreSQL is away (the agent retries), else 500. */
  const failed = (res: Response, error: unknown, next: (error: unknown) => void) => {
    if (res.headersSent) return res.destroy(error as Error);
    if (isUnavailable(error) || isTransientNatsError(error)) {
      sendError(res, 503, "UNAVAILABLE", "The server cannot reach its database or NATS; try again shortly.");
      return;
    }
    next(error);
  };

  router.get(
    JOB_ARTIFACTS_PATHS.input,
    requireAgentPermission(
      agents,
      TRANSFER_JOB_ARTIFACTS,
      refusedReads && { reads: refusedReads, operation: DOWNLOAD },
    ),
    async (req: Request, res: Response, next) => {
      try {
        const lease = await leaseOf(req, res, DOWNLOAD);
        if (!lease) return;
        const name = String(req.params.name);
        const artifact = lease.at.attempt.inputArtifacts.find((a) => a.name === name);
        if (!artifact) {
          await refuse(req, res, DOWNLOAD, 404, `This job has no input artifact named "${name}".`);
          return;
        }
        const link = await connection();
        if (!link) {
          sendError(res, 503, "UNAVAILABLE", "The artifact store (NATS) is unavailable; try again shortly.");
          return;
        }
        let object;
        try {
          object = await openObject(link.nc, link.jsm, bucket, artifact.objectKey);
        } catch (error) {
          logger.warn({ err: (error as Error).message, name }, "input artifact unreadable");
          sendError(res, 503, "UNAVAILABLE", "The artifact store is unavailable; try again shortly.");
          return;
        }
        if (!object) {
          sendError(res, 404, "NOT_FOUND", `The object of input artifact "${name}" is gone from the store.`);
          return;
        }
        res.status(200);
        res.setHeader("content-type", "application/gzip");
        res.setHeader("x-object-size", String(object.size));
        res.setHeader("x-object-sha256", object.sha256);
        try {
          await pipeline(Readable.from(object.chunks, { objectMode: false }), res);
        } catch (error) {
          if (error instanceof CorruptObject) {
            // The bytes end short: the agent finds fewer than recorded and unpacks nothing.
            logger.warn({ err: error.message, objectKey: artifact.objectKey }, "input artifact is corrupt");
            if (!res.writableEnded) res.end();
            return;
          }
          logger.warn({ err: (error as Error).message, name }, "input artifact download broke off");
          res.destroy(error as Error);
        }
      } catch (error) {
        failed(res, error, next);
      }
    },
  );

  router.put(
    JOB_ARTIFACTS_PATHS.output,
    requireAgentPermission(
      agents,
      TRANSFER_JOB_ARTIFACTS,
      refusedReads && { reads: refusedReads, operation: UPLOAD },
    ),
    async (req: Request, res: Response, next) => {
      try {
        const lease = await leaseOf(req, res, UPLOAD);
        if (!lease) return;
        const name = String(req.params.name);
        const { at } = lease;
        const declared = actionDeclaration(at.execution, at.stageIndex, at.actionIndex).outputArtifacts.map(
          (a) => a.name,
        );
        if (!declared.includes(name)) {
          await refuse(
            req,
            res,
            UPLOAD,
            403,
            `The action does not declare the output artifact "${name}"${
              declared.length ? ` (it declares ${declared.join(", ")})` : " (it declares none)"
            }.`,
          );
          return;
        }
        const link = await connection();
        if (!link) {
          sendError(res, 503, "UNAVAILABLE", "The artifact store (NATS) is unavailable; try again shortly.");
          return;
        }
        const objectKey = attemptKeyPrefix(at) + name;
        // The agent went away when its connection closed before the answer. (`req.destroyed` does
        // not say so: a failed write ends the read of the body, which destroys `req` however whole
        // the body was, and the agent would wait for an answer that never comes.)
        let agentGone = false;
        res.once("close", () => {
          if (!res.writableFinished) agentGone = true;
        });
        let stored: { size: number; sha256: string };
        try {
          stored = await putObject(link.nc, link.jsm, bucket, objectKey, req);
        } catch (error) {
          if (agentGone || res.destroyed) return; // nothing is stored, and nobody to tell
          logger.warn({ err: (error as Error).message, objectKey }, "output artifact not stored");
          sendError(res, 503, "UNAVAILABLE", "The artifact store is unavailable; try again shortly.");
          return;
        }
        await record(req, res, UPLOAD, "ok", null, `artifact/${objectKey}`);
        const reply: StoredArtifact = { name, objectKey, size: stored.size, sha256: stored.sha256 };
        res.status(200).json(reply);
      } catch (error) {
        failed(res, error, next);
      }
    },
  );
  return router;
}
