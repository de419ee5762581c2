import "reflect-metadata";
import { startServer } from "./app";
import { resolveAdminToken } from "./auth/admin-token";
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./logger";
import { InstallationConflictError } from "./messaging/installation-claim";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sluice-server: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, config.logFormat);
  const admin = resolveAdminToken(config.adminToken, config.dataDir);
  const server = await startServer({ config, adminToken: admin.token, logger });
  // Another installation on this prefix: serving would take its jobs (PROTOCOL.md 4.3).
  server.messagingReady.catch((error: unknown) => {
    if (!(error instanceof InstallationConflictError)) return;
    logger.fatal(error.message);
    process.stderr.write(`sluice-server: ${error.message}\n`);
    setTimeout(() => process.exit(1), 5000).unref();
    void server.stop().finally(() => process.exit(1));
  });
  logger.info(
    {
      url: server.url,
      database: config.databaseUrl ? "postgresql" : "pglite",
      natsPrefix: config.natsPrefix,
    },
    "sluice server listening",
  );
  if (admin.generated) {
    // Printed once, for a person: the first start made this token and kept it in the data directory.
    process.stderr.write(
      [
        "",
        "  Sluice is running.",
        `  GraphQL:      ${server.url}  (WebSocket: ${server.url.replace(/^http/, "ws")})`,
        `  Admin token:  ${admin.token}`,
        `  (kept in ${admin.file}; set SLUICE_ADMIN_TOKEN to choose your own)`,
        "",
        "",
      ].join("\n"),
    );
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: finishing in-flight requests");
    const timer = setTimeout(() => {
      logger.error("shutdown timed out; exiting");
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    server.stop().then(
      () => {
        logger.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`sluice-server: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
