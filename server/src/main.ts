import "reflect-metadata";
import { startServer, type SluiceServer } from "./app";
import { resolveAdminToken } from "./auth/admin-token";
import { ConfigError, loadConfig } from "./config";
import { createLogger } from "./logger";
import { InstallationConflictError } from "./messaging/installation-claim";
import { reasonOf, StartupError, withoutCredentials } from "./startup-error";
import { startTracing, tracingSdkLoaded } from "./telemetry/tracing";

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
  // Before anything makes a span: off (and the SDK not loaded) unless an OTLP endpoint is set.
  const tracing = startTracing("sluice-server");
  const admin = resolveAdminToken(config.adminToken, config.dataDir);
  const server = await startServer({ config, adminToken: admin.token, logger });
  // Ready means NATS answers too: until it does (or another installation holds the prefix, PROTOCOL.md
  // 4.3) there is no banner; after the start-up timeout, one line says why and the server exits 1.
  const problem = await waitForMessaging(server, config.startupTimeoutMs, config.natsUrl);
  if (problem) {
    logger.fatal(problem);
    process.stderr.write(`sluice-server: ${problem}\n`);
    setTimeout(() => process.exit(1), 5000).unref();
    await server.stop().catch(() => undefined);
    process.exit(1);
  }
  logger.info(
    {
      url: server.url,
      database: config.databaseUrl ? "postgresql" : "pglite",
      natsPrefix: config.natsPrefix,
      singleSignOn: config.oidc ? config.oidc.issuer : "off",
      tracing: tracing ? `${tracing.serviceName} to ${withoutCredentials(tracing.endpoint)}` : "off",
      tracingSdkLoaded: tracingSdkLoaded(),
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
    server
      .stop()
      // The spans still buffered leave before the exit.
      .then(() => tracing?.shutdown().catch(() => undefined))
      .then(
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
  // A renewed certificate: served to new connections, no restart.
  process.on("SIGHUP", () => {
    try {
      if (server.reloadTls()) logger.info("SIGHUP: reloaded the TLS certificate and key");
    } catch (error) {
      logger.error(
        { err: error },
        "SIGHUP: the new TLS files are not usable; still serving the previous ones",
      );
    }
  });
}

/** null once messaging is set up; otherwise why not (NATS unreachable, the prefix taken). */
async function waitForMessaging(
  server: SluiceServer,
  timeoutMs: number,
  natsUrl: string[],
): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">(
    (resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)),
  );
  try {
    const outcome = await Promise.race([server.messagingReady.then(() => "ready" as const), timedOut]);
    if (outcome === "ready") return null;
    const servers = natsUrl.map(withoutCredentials).join(", ");
    return `cannot reach NATS at ${servers} within ${timeoutMs / 1000} s: ${server.natsProblem() ?? "no answer"}`;
  } catch (error) {
    if (error instanceof InstallationConflictError || error instanceof StartupError) return error.message;
    return `NATS set-up failed: ${reasonOf(error)}`;
  } finally {
    clearTimeout(timer);
  }
}

main().catch((error: unknown) => {
  // An operator's problem is one line; anything else is a bug, and its stack helps.
  const text =
    error instanceof StartupError
      ? error.message
      : `failed to start: ${(error as Error).stack ?? String(error)}`;
  process.stderr.write(`sluice-server: ${text}\n`);
  process.exit(1);
});
