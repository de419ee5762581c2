import type { Request, Response, Router } from "express";
import express from "express";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Objm } from "@nats-io/obj";
import { executionArtifactKeyPrefix, natsNames } from "@sluice/protocol";
import type { ExecutionEngine } from "../engine/execution-engine";
import type { ExecutionView } from "../domain/execution";
import type { Logger } from "../logger";
import type { NatsLink } from "../messaging/nats";
import { requirePermission, type RouteAuthorization } from "./authorize";
import { sendError } from "./errors";

/**
 * `GET /artifacts/<executionId>/<artifactName>`: the artifact's tar.gz from the object store, with
 * the same bearer token as the GraphQL API. Only artifacts the execution recorded are served; the
 * bytes are checked against the recorded SHA-256 by whoever downloads (it is in the headers).
 */
export function artifactRoutes(
  auth: RouteAuthorization,
  engine: ExecutionEngine,
  nats: NatsLink,
  prefix: string,
  logger: Logger,
): Router {
  const router = express.Router();
  const bucket = natsNames(prefix).artifactsBucket;
  router.get(
    "/artifacts/:executionId/:artifactName",
    artifactPermission(auth),
    async (req: Request, res: Response) => {
      const executionId = String(req.params.executionId);
      const name = String(req.params.artifactName);
      const execution = await engine.executions.findExecution<ExecutionView>(executionId).catch(() => null);
      const artifact = execution?.view.artifacts.find((a) => a.name === name);
      if (!execution || !artifact || !ownObject(artifact.objectKey, executionId, name)) {
        sendError(res, 404, "NOT_FOUND", `Execution ${executionId} has no artifact named "${name}".`);
        return;
      }
      const nc = nats.nats;
      if (!nc) {
        sendError(res, 503, "UNAVAILABLE", "The artifact store (NATS) is unavailable; try again shortly.");
        return;
      }
      try {
        const store = await new Objm(nc).open(bucket);
        const object = await store.get(artifact.objectKey);
        if (!object) {
          sendError(res, 404, "NOT_FOUND", `The object of artifact "${name}" is gone from the store.`);
          return;
        }
        res.status(200);
        res.setHeader("content-type", "application/gzip");
        res.setHeader("content-length", String(artifact.size));
        res.setHeader("content-disposition", `attachment; filename="${name}.tar.gz"`);
        res.setHeader("x-checksum-sha256", artifact.sha256);
        res.setHeader("digest", `sha-256=${Buffer.from(artifact.sha256, "hex").toString("base64")}`);
        await pipeline(Readable.fromWeb(object.data as never), res);
        await object.error;
      } catch (error) {
        logger.warn({ err: (error as Error).message, executionId, name }, "artifact download failed");
        if (!res.headersSent)
          sendError(res, 503, "UNAVAILABLE", "The artifact store is unavailable; try again shortly.");
        else res.destroy(error as Error);
      }
    },
  );
  return router;
}

/** An object this execution's own actions stored: `<executionId>/<jobId>/<attempt>/<name>` (PROTOCOL.md 9). */
function ownObject(objectKey: string, executionId: string, name: string): boolean {
  const prefix = executionArtifactKeyPrefix(executionId);
  return (
    objectKey.startsWith(prefix) &&
    /^[A-Za-z0-9_-]{1,64}\/[1-9][0-9]*$/.test(
      objectKey.slice(prefix.length, objectKey.length - name.length - 1),
    ) &&
    objectKey.endsWith(`/${name}`)
  );
}

/** The route's check (http/authorize.ts), answering in the GraphQL error shape this route uses. */
function artifactPermission(auth: RouteAuthorization): express.RequestHandler {
  const check = requirePermission(auth, "GET /artifacts/:executionId/:artifactName");
  return (req, res, next) => {
    const json = res.json.bind(res);
    // requirePermission answers { error, code }; this route's errors are GraphQL-shaped.
    res.json = (body: { error?: string; code?: string }) => {
      res.json = json;
      if (res.statusCode === 401) {
        sendError(
          res,
          401,
          "UNAUTHENTICATED",
          "A valid API token is required: send it as `Authorization: Bearer <token>`.",
        );
        return res;
      }
      sendError(res, res.statusCode, body.code ?? "FORBIDDEN", body.error ?? "Not allowed.");
      return res;
    };
    check(req, res, (error?: unknown) => {
      res.json = json;
      next(error);
    });
  };
}
