import crypto from "node:crypto";
import type { Request, Response, Router } from "express";
import express from "express";
import type { DataSource } from "typeorm";
import { z } from "zod";
import { DomainError } from "../domain/errors";
import { DEFAULT_ACCOUNT } from "../domain/policy/srn";
import { sourcesStartedBy, type Push } from "../domain/triggers/push";
import type { ExecutionEngine } from "../engine/execution-engine";
import { unstorablePaths } from "../domain/storable-text";
import type { Logger } from "../logger";
import { sendError } from "./errors";
import { PipelineStore } from "../persistence/pipeline-store";
import { REPLAY_WINDOW_SECONDS, WebhookStore } from "../persistence/webhook-store";
import type { SecretVault } from "../persistence/secret-vault";

/** GitHub sends up to 25 MB. */
const MAX_BODY = "25mb";
/** How far a signed `X-Sluice-Timestamp` may be from the server's clock. */
const TIMESTAMP_TOLERANCE_SECONDS = 300;
const DELETED = /^0+$/;

const commitSchema = z.looseObject({
  id: z.string().optional(),
  message: z.string().optional(),
  url: z.string().optional(),
  added: z.array(z.string()).optional(),
  modified: z.array(z.string()).optional(),
  removed: z.array(z.string()).optional(),
});

/** The fields of a push that GitHub, Gitea/Forgejo, GitLab and Sluice's generic form share or differ in. */
const pushSchema = z.looseObject({
  ref: z.string(),
  after: z.string().optional(),
  checkout_sha: z.string().nullish(),
  deleted: z.boolean().optional(),
  head_commit: commitSchema.nullish(),
  commits: z.array(commitSchema).optional(),
  repository: z.record(z.string(), z.unknown()).nullish(),
  project: z.record(z.string(), z.unknown()).nullish(),
  pusher: z.looseObject({ name: z.string().optional() }).nullish(),
  user_name: z.string().nullish(),
  // Sluice's generic form
  message: z.string().optional(),
  url: z.string().optional(),
  changedFiles: z.array(z.string()).optional(),
});

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && crypto.timingSafeEqual(left, right);
}

function headerOf(headers: Request["headers"], name: string): string | undefined {
  const value = headers[name];
  return typeof value === "string" ? value : undefined;
}

/**
 * Whether the request carries proof of the secret: an HMAC-SHA256 of the body (GitHub and Gitea
 * `X-Hub-Signature-256`, Gitea `X-Gitea-Signature`, Sluice `X-Sluice-Signature`) or the secret
 * itself (GitLab `X-Gitlab-Token`). With `X-Sluice-Timestamp`, the Sluice signature covers
 * `<timestamp>.<body>`, so that the time cannot be changed.
 */
export function verified(headers: Request["headers"], body: Buffer, secret: string): boolean {
  const hmac = crypto.createHmac("sha256", secret).update(body).digest("hex");
  const header = (name: string) => headerOf(headers, name);
  const github = header("x-hub-signature-256");
  if (github !== undefined) return safeEqual(github, `sha256=${hmac}`);
  const sluice = header("x-sluice-signature");
  const timestamp = header("x-sluice-timestamp");
  if (sluice !== undefined && timestamp !== undefined) {
    const stamped = crypto.createHmac("sha256", secret).update(`${timestamp}.`).update(body).digest("hex");
    return safeEqual(sluice, `sha256=${stamped}`);
  }
  if (sluice !== undefined) return safeEqual(sluice, `sha256=${hmac}`);
  const gitea = header("x-gitea-signature");
  if (gitea !== undefined) return safeEqual(gitea, hmac);
  const token = header("x-gitlab-token");
  if (token !== undefined) return safeEqual(token, secret);
  return false;
}

const httpUrl = (value: unknown): string | null =>
  typeof value === "string" && /^https?:\/\//.test(value) && value.length <= 2048 ? value : null;

/** A push event of any of the supported forms, as the trigger rules read it; null: not a push. */
export function readPush(body: unknown): Push | null {
  const parsed = pushSchema.safeParse(body);
  if (!parsed.success) return null;
  const p = parsed.data;
  const commitId = p.checkout_sha ?? p.after ?? p.head_commit?.id;
  if (!commitId || DELETED.test(commitId) || p.deleted === true) return null;
  const branch = p.ref.startsWith("refs/heads/") ? p.ref.slice("refs/heads/".length) : null;
  const tag = p.ref.startsWith("refs/tags/") ? p.ref.slice("refs/tags/".length) : null;
  if (branch === null && tag === null) return null;
  const head = p.head_commit ?? p.commits?.find((c) => c.id === commitId) ?? p.commits?.at(-1) ?? null;
  const urls = [p.repository, p.project].flatMap((r) =>
    r
      ? [
          "clone_url",
          "ssh_url",
          "git_url",
          "html_url",
          "git_http_url",
          "git_ssh_url",
          "web_url",
          "url",
          "homepage",
        ]
          .map((k) => r[k])
          .filter((v): v is string => typeof v === "string")
      : [],
  );
  const files =
    p.changedFiles ??
    p.commits?.flatMap((c) => [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]);
  return {
    repositoryUrls: urls,
    branch,
    tag,
    commitId,
    message: (head?.message ?? p.message ?? "").split("\n")[0]!.slice(0, 2048) || null,
    url: httpUrl(head?.url ?? p.url),
    changedFiles: files === undefined ? null : [...new Set(files)],
  };
}

/** The proof a request carries (signature or token), which the replay digest covers with the body. */
function proofOf(headers: Request["headers"]): string {
  return ["x-hub-signature-256", "x-sluice-signature", "x-gitea-signature", "x-gitlab-token"]
    .map((name) => headerOf(headers, name) ?? "")
    .join("\n");
}

/** A signed timestamp older or newer than the tolerance: the request was captured and sent later. */
function staleTimestamp(headers: Request["headers"], nowMs: number): boolean {
  const timestamp = headerOf(headers, "x-sluice-timestamp");
  if (timestamp === undefined || headerOf(headers, "x-sluice-signature") === undefined) return false;
  const seconds = /^\d{1,12}$/.test(timestamp) ? Number(timestamp) : NaN;
  return !(Math.abs(nowMs / 1000 - seconds) <= TIMESTAMP_TOLERANCE_SECONDS);
}

/**
 * `POST /webhooks/<pipelineName>` (a pipeline of the default account) or
 * `POST /webhooks/<account>/<pipelineName>` (of another account): a push from GitHub, Gitea/Forgejo, GitLab or anything that
 * signs a `{ ref, after }` body like GitHub does. A verified push that starts one of the
 * pipeline's sources starts an execution (trigger Webhook) with that revision; the delivery id
 * makes a redelivered push start nothing new. A signed body seen within the replay window under
 * another or no delivery id, or a signed `X-Sluice-Timestamp` out of tolerance, is a replay:
 * 409, nothing starts.
 */
export function webhookRoutes(
  db: DataSource,
  engine: ExecutionEngine,
  logger: Logger,
  vault: SecretVault,
): Router {
  const router = express.Router();
  const pipelines = new PipelineStore(db);
  const webhooks = new WebhookStore(db, vault);
  router.post(
    ["/webhooks/:pipelineName", "/webhooks/:account/:pipelineName"],
    express.raw({ type: () => true, limit: MAX_BODY }),
    async (req: Request, res: Response) => {
      const name = String(req.params.pipelineName);
      const account = typeof req.params.account === "string" ? req.params.account : DEFAULT_ACCOUNT;
      let recorded: string | null = null;
      try {
        const pipeline = await pipelines.findByName(account, name);
        const hook = pipeline ? await webhooks.find(pipeline.id) : null;
        if (!pipeline || !hook) {
          sendError(res, 404, "NOT_FOUND", `Pipeline "${name}" has no webhook.`);
          return;
        }
        const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
        if (!verified(req.headers, body, hook.secret)) {
          sendError(
            res,
            401,
            "UNAUTHENTICATED",
            "The signature does not match this pipeline's webhook secret.",
          );
          return;
        }
        if (staleTimestamp(req.headers, Date.now())) {
          sendError(
            res,
            409,
            "STALE_DELIVERY",
            `X-Sluice-Timestamp is more than ${TIMESTAMP_TOLERANCE_SECONDS} s from the server's time: a delivery is sent at once, not replayed.`,
          );
          return;
        }
        const deliveryHeader =
          req.headers["x-github-delivery"] ??
          req.headers["x-gitea-delivery"] ??
          req.headers["x-gitlab-event-uuid"] ??
          req.headers["x-sluice-delivery"];
        const delivery = typeof deliveryHeader === "string" ? deliveryHeader.slice(0, 200) : null;
        const digest = crypto
          .createHash("sha256")
          .update(`${pipeline.id}\n${proofOf(req.headers)}\n`)
          .update(body)
          .digest("hex");
        const seen = await webhooks.recordDelivery(pipeline.id, digest, delivery, REPLAY_WINDOW_SECONDS);
        if (seen === "replay") {
          logger.warn({ pipeline: name, delivery }, "replayed webhook delivery refused");
          sendError(
            res,
            409,
            "REPLAYED_DELIVERY",
            "This signed body was already received under another delivery id (or none): a replay starts nothing.",
          );
          return;
        }
        if (seen === "new") recorded = digest;
        await webhooks.delivered(pipeline.id);
        const event = String(
          req.headers["x-github-event"] ??
            req.headers["x-gitea-event"] ??
            req.headers["x-gitlab-event"] ??
            "push",
        );
        if (event === "ping") {
          res.status(200).json({ ok: true, message: "pong" });
          return;
        }
        let json: unknown;
        try {
          json = JSON.parse(body.toString("utf8"));
        } catch {
          sendError(res, 400, "BAD_REQUEST", "The body is not JSON.");
          return;
        }
        const unstorable = unstorablePaths(json, "body");
        if (unstorable.length > 0) {
          const message = `Text cannot hold NUL characters or unpaired UTF-16 surrogates: ${unstorable.slice(0, 5).join(", ")}.`;
          sendError(res, 400, "BAD_USER_INPUT", message);
          return;
        }
        const push = readPush(json);
        if (!push) {
          res.status(202).json({ started: [], ignored: `not a push to a branch or tag (event ${event})` });
          return;
        }
        const started = sourcesStartedBy(pipeline.document, push);
        if (started.length === 0) {
          res
            .status(202)
            .json({ started: [], ignored: `no source of "${name}" follows ${push.branch ?? push.tag}` });
          return;
        }
        const pusher =
          (json as { pusher?: { name?: string }; user_name?: string }).pusher?.name ??
          (json as { user_name?: string }).user_name;
        const execution = await engine.releaseChange({
          account,
          pipelineName: name,
          sourceRevisions: started.map(({ action }) => ({
            actionName: action.name,
            revisionId: push.commitId,
            revisionSummary: push.message,
            revisionUrl: push.url,
          })),
          clientRequestToken: delivery !== null ? `webhook:${delivery}`.slice(0, 128) : null,
          trigger: {
            triggerType: "Webhook",
            triggerDetail: `${started.map((s) => s.reason).join("; ")}${pusher ? ` by ${pusher}` : ""}`.slice(
              0,
              1024,
            ),
          },
        });
        res.status(201).json({ started: [execution.id], commitId: push.commitId });
      } catch (error) {
        if (error instanceof DomainError && error.code === "BAD_USER_INPUT") {
          // A push no agent could run (a revision id too long for a job): refused, not retried.
          if (recorded !== null) await webhooks.forgetDelivery(recorded).catch(() => undefined);
          sendError(res, 400, error.code, error.message);
          return;
        }
        logger.error({ err: error, pipeline: name }, "webhook failed");
        // The host sends it again: that must not count as a replay.
        if (recorded !== null) await webhooks.forgetDelivery(recorded).catch(() => undefined);
        sendError(res, 503, "UNAVAILABLE", "The push could not be processed now; redeliver it shortly.");
      }
    },
  );
  return router;
}
