#!/usr/bin/env node
/**
 * `sluice-agent`: reads options and environment, runs the agent, and maps how it ended to an exit
 * status: 0 after a drain, 2 for bad options, 3 when the server refused or revoked the agent, 1 for
 * anything else. SIGTERM/SIGINT drain; a second one aborts running jobs at once.
 */
import fs from "node:fs";
import { setSha256Backend } from "@nats-io/obj";
import { AgentFatalError, AgentStopped } from "./agent";
import { parseConfig } from "./config";
import { startAgent } from "./index";
import { createLogger } from "./logger";
import { currentReaper, installReaper, OrphanReaper } from "./exec/reaper";
import { hideCommandLine, makeNonDumpable, scrubInitialEnvironment } from "./exec/self-protection";
import { BUILTIN_PROVIDER_IDS, createProviders } from "./providers/registry";
import { startTracing } from "./tracing";

async function main(): Promise<number> {
  const parsed = parseConfig(process.argv.slice(2), process.env, BUILTIN_PROVIDER_IDS);
  if (parsed.ok === "help") {
    process.stdout.write(parsed.text);
    return 0;
  }
  if (!parsed.ok) {
    process.stderr.write(
      `sluice-agent: invalid options:\n${parsed.errors.map((e) => `  - ${e}`).join("\n")}\n`,
    );
    return 2;
  }
  const config = parsed.config;
  // The token is in memory now: nothing the agent's jobs (or other users) can read keeps it.
  delete process.env.SLUICE_AGENT_TOKEN;
  hideCommandLine("sluice-agent");
  let scrubbed = true;
  try {
    if (config.tokenSource === "env") scrubInitialEnvironment(["SLUICE_AGENT_TOKEN"]);
  } catch {
    scrubbed = false;
  }
  makeNonDumpable();
  try {
    // A Sluice type this agent does not implement, or a Custom one without a handler, is a bad option.
    createProviders(config.providers, config.handlers);
  } catch (error) {
    process.stderr.write(`sluice-agent: invalid options:\n  - --providers: ${(error as Error).message}\n`);
    return 2;
  }
  const logger = createLogger(config.logLevel, config.logFormat);
  // Off (and the SDK not loaded) unless an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT...).
  const tracing = startTracing("sluice-agent");
  if (tracing)
    logger.info(
      { serviceName: tracing.serviceName, endpoint: withoutCredentials(tracing.endpoint) },
      "tracing on",
    );
  if (config.tokenSource === "argv") {
    logger.warn(
      "the token was given with --token: every user of this host could read it until the agent started; use --token-file",
    );
  }
  if (!scrubbed) {
    logger.warn(
      "cannot remove the token from the agent's initial environment (/proc/self/mem): use --token-file",
    );
  }
  if (config.tokenFile) warnOpenTokenFile(config.tokenFile, logger);
  if (config.jobIsolation?.mode === "user" && config.concurrency > 1) {
    logger.warn(
      "every job runs as the same --job-user: jobs that run at once can read each other's workspaces (use --job-uid-range or --concurrency 1)",
    );
  }
  // Kills this agent's job processes should it die without doing so itself (exec/reaper.ts).
  const reaper = OrphanReaper.start((error) =>
    logger.warn({ err: error.message }, "the orphan reaper is gone: jobs are not cleaned up after a crash"),
  );
  installReaper(reaper);
  // Outside jest's VM the native hash is always there, and four times faster for artifacts.
  setSha256Backend("native");

  const early = new AbortController();
  let stop: ((options?: { force?: boolean }) => void) | null = null;
  const onSignal = (signal: NodeJS.Signals) => {
    logger.info({ signal }, stop ? "signal received: draining" : "signal received before registration");
    if (stop) stop();
    else early.abort();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  try {
    return await run(config, logger, early, (fn) => (stop = fn));
  } finally {
    // The spans still buffered leave before the exit.
    await tracing?.shutdown().catch(() => undefined);
  }
}

async function run(
  config: Parameters<typeof startAgent>[0],
  logger: ReturnType<typeof createLogger>,
  early: AbortController,
  onStarted: (stop: (options?: { force?: boolean }) => void) => void,
): Promise<number> {
  try {
    const agent = await startAgent({ ...config, logger, signal: early.signal });
    onStarted((options) => agent.stop(options));
    const code = await agent.done;
    if (code === 3 && agent.fatalMessage) process.stderr.write(`sluice-agent: ${agent.fatalMessage}\n`);
    return code;
  } catch (error) {
    if (error instanceof AgentStopped) return 0;
    if (error instanceof AgentFatalError) {
      logger.error({ code: error.code }, `registration refused: ${error.message}`);
      process.stderr.write(`sluice-agent: registration refused (${error.code}): ${error.message}\n`);
      return 3;
    }
    logger.error({ err: error }, "the agent failed");
    process.stderr.write(`sluice-agent: ${(error as Error).message}\n`);
    return 1;
  }
}

/** The URL without user and password, for a log line. */
function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(an invalid URL)";
  }
}

/** A token file others may read is as good as a token in the open. */
function warnOpenTokenFile(file: string, logger: ReturnType<typeof createLogger>): void {
  try {
    const mode = fs.statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      logger.warn(
        { file, mode: mode.toString(8) },
        "the token file is readable by other users: chmod 600 it",
      );
    }
  } catch {
    // It was read a moment ago; a file gone since is not worth a warning.
  }
}

void main().then((code) => {
  currentReaper()?.close();
  process.exitCode = code;
  // Whatever still holds the event loop (a provider's stray timer) must not keep a stopped agent up.
  setTimeout(() => process.exit(code), 2000).unref();
});
