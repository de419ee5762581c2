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

async function checkDatabase(db: DataSource): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await db.query("SELECT 1");
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}
