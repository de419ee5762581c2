import express, { type RequestHandler, type Router } from "express";
import type { Logger } from "../logger";
import type { ServerMetrics } from "../metrics/server-metrics";
import { requirePermission, type RouteAuthorization } from "./authorize";

export interface MetricsRouteOptions {
  /** SLUICE_METRICS_PUBLIC: anyone who reaches the server may scrape, no token needed. */
  public: boolean;
}

/**
 * `GET /metrics` in Prometheus' text format. Scraping needs a token allowed sluice:GetMetrics (the
 * admin token, or SLUICE_METRICS_TOKEN which allows nothing else) through the same authenticator
 * and permission check as the GraphQL API, unless SLUICE_METRICS_PUBLIC is set. Like every read
 * (queries, artifact downloads) a scrape is not an audit event; a refused one is counted in the
 * audit log within a budget, as a refused query is (auth/refused-reads.ts).
 */
export function metricsRoutes(
  auth: RouteAuthorization,
  metrics: ServerMetrics,
  options: MetricsRouteOptions,
  logger: Logger,
): Router {
  const router = express.Router();
  router.get("/metrics", requirePermission(auth, "GET /metrics", options.public), async (_req, res) => {
    try {
      const body = await metrics.registry.metrics();
      res.status(200).type(metrics.registry.contentType).send(body);
    } catch (error) {
      logger.warn({ err: (error as Error).message }, "metrics not collected");
      res
        .status(503)
        .json({ error: "The metrics could not be collected (database unavailable); try again." });
    }
  });
  return router;
}

const ROUTES = new Set(["graphql", "metrics", "artifacts", "webhooks", "healthz", "readyz", "version"]);

/** Times every HTTP request; the route label is the path's first segment when known, else "other". */
export function httpMetrics(metrics: ServerMetrics): RequestHandler {
  return (req, res, next) => {
    const end = metrics.httpDuration.startTimer();
    res.on("finish", () => {
      // originalUrl: under a mounted router (app.use("/graphql", ...)) req.path is relative to it.
      const first = req.originalUrl.split("?")[0]?.split("/")[1] ?? "";
      end({
        method: req.method,
        route: ROUTES.has(first) ? `/${first}` : "other",
        status: String(res.statusCode),
      });
    });
    next();
  };
}
