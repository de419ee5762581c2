import type { Request, Response, Router } from "express";
import express from "express";
import type { DataSource } from "typeorm";
import type { NatsLink } from "../messaging/nats";

/** `/healthz`: the process is alive. `/readyz`: the database and NATS answer (503 otherwise). */
export function healthRoutes(db: DataSource, nats: NatsLink, isShuttingDown: () => boolean): Router {
  const router = express.Router();
  router.get("/healthz", (_req: Request, res: Response) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", async (_req: Request, res: Response) => {
    const [database, broker] = await Promise.all([checkDatabase(db), nats.check()]);
    const ready = database.ok && broker.ok && !isShuttingDown();
    res.status(ready ? 200 : 503).json({
      status: ready ? "ready" : "unavailable",
      shuttingDown: isShuttingDown(),
      database,
      nats: broker,
    });
  });
  return router;
}

/**
 * `SELECT 1`, or a reason. A database that accepts connections but does not answer would leave the
 * query (and the probe) waiting for ever: after `timeoutMs` it counts as not ready.
 */
async function checkDatabase(
  db: DataSource,
  timeoutMs = 1000,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  const query = db.query("SELECT 1");
  query.catch(() => undefined); // it may fail after the timeout already answered
  try {
    await Promise.race([query, timeout]);
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  } finally {
    clearTimeout(timer);
  }
}
