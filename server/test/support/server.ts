import crypto from "node:crypto";
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import pino from "pino";
import { startServer, type SluiceServer } from "../../src/app";
import { loadConfig } from "../../src/config";
import { REDACTED_PATHS } from "../../src/logger";
import { createTestDatabase, executionCountDrift, type TestDatabase } from "./database";
import { deleteStreams } from "./nats";

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef";

/**
 * Copies of one installation need the same master key (its lease key and secrets are encrypted
 * under it): servers a test starts get this one unless the test brings its own key or data directory.
 */
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString("base64");

export interface GraphQLResponse<T = Record<string, any>> {
  data?: T | null;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, any> }>;
}

export interface TestServer {
  server: SluiceServer;
  natsPrefix: string;
  url: string;
  database: TestDatabase | null;
  gql<T = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string | null },
  ): Promise<GraphQLResponse<T>>;
  stop(): Promise<void>;
}

/**
 * Starts a real server in this process on a fresh PostgreSQL database (or PGlite with
 * `pglite: true`), on port 0, with a NATS prefix of its own.
 */
export async function startTestServer(
  options: {
    env?: Record<string, string>;
    pglite?: boolean;
    dataDir?: string;
    clock?: () => Date;
    /** Every line the server logs (at trace level, with the production redaction) goes here too. */
    logLines?: string[];
  } = {},
): Promise<TestServer> {
  const database = options.pglite ? null : await createTestDatabase();
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "sluice-test-"));
  // A start that fails (a bad setting under test) leaves no database or directory behind.
  const cleanUp = async () => {
    await database?.drop().catch(() => undefined);
    if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({
      PORT: "0",
      HOST: "127.0.0.1",
      NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
      SLUICE_NATS_PREFIX: `test_${crypto.randomBytes(4).toString("hex")}`,
      SLUICE_DATA_DIR: dataDir,
      NODE_ENV: "test",
      // The shared test NATS has no authentication (tests of the secured one start their own).
      SLUICE_NATS_INSECURE: "1",
      ...(database ? { DATABASE_URL: database.url } : {}),
      ...(options.dataDir ? {} : { SLUICE_MASTER_KEY: TEST_MASTER_KEY }),
      ...options.env,
    });
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const lines = options.logLines;
  const logger = lines
    ? pino(
        { level: "trace", redact: { paths: REDACTED_PATHS, censor: "[redacted]" } },
        { write: (line: string) => void lines.push(line) },
      )
    : pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const server = await startServer({ config, adminToken: ADMIN_TOKEN, logger, clock: options.clock }).catch(
    async (error: unknown) => {
      await cleanUp();
      throw error;
    },
  );
  if (!options.env?.NATS_URL) await server.messagingReady;
  const gql: TestServer["gql"] = async (query, variables, opts = {}) => {
    const token = opts.token === undefined ? ADMIN_TOKEN : opts.token;
    const response = await fetch(server.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse<any>;
  };
  return {
    server,
    url: server.url,
    database,
    gql,
    natsPrefix: config.natsPrefix,
    async stop() {
      await server.stop();
      const drift = database ? await executionCountDrift(database.url) : [];
      if (!options.env?.NATS_URL) await deleteStreams(config.natsPrefix);
      await database?.drop();
      if (!options.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      if (drift.length > 0)
        throw new Error(`execution_counts differ from the executions: ${JSON.stringify(drift)}`);
    },
  };
}

/** The data of a response that must have no errors (fails the test with them otherwise). */
export function dataOf<T>(response: GraphQLResponse<T>): T {
  if (response.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(response.errors, null, 2)}`);
  return response.data as T;
}
