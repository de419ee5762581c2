import path from "node:path";
import { z } from "zod";
import type { NotificationSettings } from "./notifications/settings";
import type { RetentionSettings } from "./persistence/retention-store";
import { readSignInSettings, type OidcSettings } from "./oidc-config";

/**
 * The server's configuration: one typed object, read once from the environment and validated.
 * This module is the only reader of `process.env` in the server.
 */
const port = (fallback: number) =>
  z.coerce
    .number({ message: "a port number from 0 to 65535" })
    .int({ message: "a port number from 0 to 65535" })
    .min(0, { message: "a port number from 0 to 65535" })
    .max(65535, { message: "a port number from 0 to 65535" })
    .default(fallback);

const positiveInt = (fallback: number, what: string) =>
  z.coerce.number({ message: what }).int({ message: what }).positive({ message: what }).default(fallback);

const days = (fallback: number) =>
  z.coerce
    .number({ message: "a whole number of days, 0 to keep for ever" })
    .int({ message: "a whole number of days, 0 to keep for ever" })
    .min(0, { message: "a whole number of days, 0 to keep for ever" })
    .default(fallback);

/** Per-pipeline retention: `{"web": {"days": 7, "maxExecutions": 50}}`; either key may be left out. */
const retentionOverrides = z.preprocess(
  (value) => {
    if (value === undefined || value === "") return {};
    try {
      return JSON.parse(String(value));
    } catch {
      return value;
    }
  },
  z.record(
    z.string(),
    z.strictObject({
      days: z.number().int().min(0).optional(),
      maxExecutions: z.number().int().min(0).optional(),
    }),
    {
      message: 'a JSON object of pipeline names to {"days": n, "maxExecutions": n}, e.g. {"web":{"days":7}}',
    },
  ),
);

const url = (protocols: string[], what: string) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    { message: what },
  );

/** An enum whose error reads "expected one of a, b, c" (zod's own message would read "expected Invalid option: …"). */
const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { message: `one of ${values.join(", ")}` });

const emptyAsUndefined = (value: unknown) => (value === "" ? undefined : value);

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };
const SESSION_TTL = "a duration from 1s to 7d: a number of seconds, or 90s, 30m, 12h, 7d";

/** `12h`, `30m`, `90s`, `7d` or a number of seconds → seconds (1 s to 7 days). */
const sessionTtl = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .default("12h")
    .transform((value, ctx) => {
      const match = /^(\d+)\s*([smhd]?)$/.exec(value.trim());
      const seconds = match ? Number(match[1]) * DURATION_UNITS[match[2] || "s"]! : NaN;
      if (!(seconds >= 1 && seconds <= 7 * 86400)) {
        ctx.addIssue({ code: "custom", message: SESSION_TTL });
        return z.NEVER;
      }
      return seconds;
    }),
);

const envSchema = z.object({
  /** HTTP and WebSocket port of the GraphQL API. */
  PORT: port(4000),
  /** Address to listen on: this host only unless configured (SLUICE_HOST wins over HOST). */
  HOST: z.string().min(1).default("127.0.0.1"),
  SLUICE_HOST: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  /** How long the server waits at start-up for NATS before it gives up with one line, in seconds. */
  SLUICE_STARTUP_TIMEOUT_SECONDS: positiveInt(30, "a positive number of seconds"),
  /** How long a session (a token from signIn) lasts: default 12 hours. */
  SLUICE_SESSION_TTL: sessionTtl,
  /** PostgreSQL connection URL; unset means embedded PGlite under SLUICE_DATA_DIR. */
  DATABASE_URL: z.preprocess(
    emptyAsUndefined,
    url(["postgres:", "postgresql:"], "a postgres:// or postgresql:// URL").optional(),
  ),
  /** NATS server URL(s), comma separated. */
  NATS_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .default("nats://127.0.0.1:4222")
      .refine(
        (value) =>
          value.split(",").every((one) => {
            try {
              return ["nats:", "tls:", "ws:", "wss:"].includes(new URL(one.trim()).protocol);
            } catch {
              return false;
            }
          }),
        { message: "one or more nats:// URLs separated by commas" },
      ),
  ),
  /** Prefix of every NATS subject, stream, consumer and bucket name. */
  SLUICE_NATS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, { message: "1–32 characters from A-Z a-z 0-9 _ -" })
    .default("sluice"),
  /**
   * Replicas of every JetStream stream, consumer and bucket: 1 on a single nats-server, 3 on a
   * cluster of three or more (a node may then be lost without losing anything).
   */
  SLUICE_NATS_REPLICAS: z.preprocess(emptyAsUndefined, oneOf(["1", "3"]).default("1")),
  /**
   * 1: connect to a NATS without authentication (a warning says so). Unset: the server signs its own
   * and its agents' NATS credentials (messaging/nats-auth.ts) and refuses a NATS that asks for none.
   */
  SLUICE_NATS_INSECURE: z.preprocess(emptyAsUndefined, z.enum(["0", "1", "true", "false"]).default("0")),
  /** A PEM file of the CA that signed nats-server's certificate (NATS over TLS). */
  SLUICE_NATS_CA_FILE: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  /** How long an agent's NATS credentials last, in seconds (agents renew them after two thirds). */
  SLUICE_NATS_CREDENTIALS_SECONDS: positiveInt(3600, "a whole number of seconds from 30 to 86400").pipe(
    z
      .number()
      .min(30, { message: "a whole number of seconds from 30 to 86400" })
      .max(86400, { message: "a whole number of seconds from 30 to 86400" }),
  ),
  /** Directory for the embedded database and the generated admin token. */
  SLUICE_DATA_DIR: z.string().min(1, { message: "a directory path" }).default(".sluice/data"),
  /** Bearer token with every permission; generated and kept in the data directory when unset. */
  SLUICE_ADMIN_TOKEN: z.preprocess(
    emptyAsUndefined,
    z.string().min(16, { message: "at least 16 characters" }).optional(),
  ),
  /**
   * Master keys for secret values at rest (persistence/secret-vault.ts): base64 of 32 random bytes
   * (`openssl rand -base64 32`), comma-separated during a rotation (the first one current). Unset:
   * SLUICE_MASTER_KEY_FILE, or `<data dir>/master-key`, made 0600 on the first start.
   */
  SLUICE_MASTER_KEY: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9+/=_-]{43,44}(,[A-Za-z0-9+/=_-]{43,44})*$/, {
        message: "base64 of 32 random bytes (openssl rand -base64 32), comma-separated",
      })
      .optional(),
  ),
  /** A file holding the master keys, one a line, the first one current. */
  SLUICE_MASTER_KEY_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** A bearer token that may only scrape /metrics (Prometheus' credentials); none when unset. */
  SLUICE_METRICS_TOKEN: z.preprocess(
    emptyAsUndefined,
    z.string().min(16, { message: "at least 16 characters" }).optional(),
  ),
  /** 0: no metrics are collected and there is no /metrics (default 1: collected and served). */
  SLUICE_METRICS: z.preprocess(emptyAsUndefined, z.enum(["0", "1", "true", "false"]).default("1")),
  /** 1: /metrics answers without a token (a network that only Prometheus reaches). */
  SLUICE_METRICS_PUBLIC: z.preprocess(emptyAsUndefined, z.enum(["0", "1", "true", "false"]).default("0")),
  SLUICE_OUTBOX_DIRECT: z.preprocess(emptyAsUndefined, z.enum(["0", "1", "true", "false"]).default("1")),
  /** How many pipelines one installation may hold. */
  SLUICE_MAX_PIPELINES: positiveInt(1000, "a positive integer"),
  /** The highest estimated cost of one GraphQL operation (graphql/complexity.ts). */
  SLUICE_MAX_QUERY_COST: positiveInt(20000, "a positive integer"),
  /** The most lexical tokens one GraphQL document may hold (refused while parsing, before anything else). */
  SLUICE_MAX_QUERY_TOKENS: positiveInt(20000, "a positive integer"),
  /** The deepest selection one operation may nest (introspection types are cyclic; Sluice's are not). */
  SLUICE_MAX_QUERY_DEPTH: positiveInt(32, "a positive integer"),
  /** The most aliased fields one operation may hold. */
  SLUICE_MAX_ALIASES: positiveInt(100, "a positive integer"),
  /** The most top-level fields one query or subscription may ask for. */
  SLUICE_MAX_ROOT_FIELDS: positiveInt(20, "a positive integer"),
  /** The most mutations one request may run (what one request may create). */
  SLUICE_MAX_MUTATIONS: positiveInt(10, "a positive integer"),
  /** The largest GraphQL request body over HTTP, and the largest graphql-ws frame, in bytes. */
  SLUICE_MAX_BODY_BYTES: positiveInt(2 * 1024 * 1024, "a positive number of bytes"),
  NODE_ENV: oneOf(["development", "production", "test"]).default("production"),
  LOG_LEVEL: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** json (one JSON object a line, for log shippers) or pretty (for a person at a terminal). */
  LOG_FORMAT: z.preprocess(emptyAsUndefined, oneOf(["json", "pretty"]).default("json")),
  /** How long SIGTERM waits for in-flight requests before closing them, in milliseconds. */
  SLUICE_SHUTDOWN_TIMEOUT_MS: positiveInt(10000, "a positive number of milliseconds"),
  /** The server's address as others reach it (webhook URLs); default http://localhost:<PORT>. */
  SLUICE_PUBLIC_URL: z.preprocess(
    emptyAsUndefined,
    url(["http:", "https:"], "an http or https URL, e.g. https://sluice.example.com").optional(),
  ),
  /** HTTPS: the certificate chain and its private key (PEM files); both or neither. */
  SLUICE_TLS_CERT_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  SLUICE_TLS_KEY_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** The longest a database statement may take before the request fails with UNAVAILABLE. */
  SLUICE_DB_QUERY_TIMEOUT_MS: positiveInt(30_000, "a positive number of milliseconds"),
  /**
   * How often agents heartbeat, in seconds (jobs and agents alike). An agent silent for three
   * intervals is lost: its leases end and it shows offline.
   */
  /** Base of the links in notifications (the dashboard); default SLUICE_PUBLIC_URL. */
  SLUICE_DASHBOARD_URL: z.preprocess(
    emptyAsUndefined,
    url(["http:", "https:"], "an http or https URL, e.g. https://sluice.example.com").optional(),
  ),
  /** The SMTP server of notification e-mails: smtp://user:password@host:port or smtps://…. */
  SLUICE_SMTP_URL: z.preprocess(
    emptyAsUndefined,
    url(
      ["smtp:", "smtps:"],
      "an smtp:// or smtps:// URL, e.g. smtp://user:password@mail.example.com:587",
    ).optional(),
  ),
  SLUICE_SMTP_FROM: z.string().min(3).default("Sluice <sluice@localhost>"),
  /** A PEM file of CA certificates trusted for https notification targets, besides the system's. */
  SLUICE_NOTIFY_CA_FILE: z.preprocess(emptyAsUndefined, z.string().optional()),
  /** Accept http:// notification targets (https only by default). */
  SLUICE_NOTIFY_ALLOW_HTTP: z.enum(["true", "false"]).default("false"),
  SLUICE_NOTIFY_ALLOW_PRIVATE: z.enum(["true", "false"]).default("false"),
  SLUICE_NOTIFY_TIMEOUT_MS: positiveInt(10_000, "a positive number of milliseconds"),
  SLUICE_NOTIFY_RETRY_BASE_MS: positiveInt(1000, "a positive number of milliseconds"),
  SLUICE_NOTIFY_RETRY_MAX_DELAY_MS: positiveInt(300_000, "a positive number of milliseconds"),
  SLUICE_NOTIFY_RETRY_FOR_SECONDS: positiveInt(86_400, "a positive number of seconds"),
  SLUICE_NOTIFY_CONCURRENCY_PER_TARGET: positiveInt(4, "a positive integer"),
  SLUICE_NOTIFY_CIRCUIT_THRESHOLD: positiveInt(5, "a positive integer"),
  SLUICE_NOTIFY_CIRCUIT_OPEN_MS: positiveInt(60_000, "a positive number of milliseconds"),
  /** Finished executions (their history, logs and artifacts) are deleted this many days after they ended; 0 keeps them. */
  SLUICE_RETENTION_DAYS: days(90),
  /** At most this many executions are kept per pipeline (the oldest finished go first); 0: no limit. */
  SLUICE_RETENTION_MAX_EXECUTIONS: z.coerce
    .number({ message: "a whole number, 0 for no limit" })
    .int({ message: "a whole number, 0 for no limit" })
    .min(0, { message: "a whole number, 0 for no limit" })
    .default(0),
  /** Per-pipeline exceptions to the two above, as JSON. */
  SLUICE_RETENTION_PIPELINES: retentionOverrides,
  /** Audit events are deleted this many days after they were written; 0 keeps them. */
  SLUICE_AUDIT_RETENTION_DAYS: days(365),
  /** Delivered or failed notification deliveries (with their attempts) are deleted after this many days; 0 keeps them. */
  SLUICE_NOTIFY_RETENTION_DAYS: days(30),
  /**
   * Refused queries and subscriptions: at most one audit row per principal, operation and resource
   * per this many seconds, counting the refusals it stands for (auth/refused-reads.ts).
   */
  SLUICE_AUDIT_REFUSAL_WINDOW_SECONDS: positiveInt(60, "a positive number of seconds"),
  /** How often the retention job runs, in seconds. */
  SLUICE_RETENTION_INTERVAL_SECONDS: positiveInt(600, "a positive number of seconds"),
  SLUICE_HEARTBEAT_INTERVAL_SECONDS: positiveInt(5, "a whole number of seconds from 1 to 300").pipe(
    z.number().max(300, { message: "a whole number of seconds from 1 to 300" }),
  ),
  /**
   * How long a job's lease lasts without a heartbeat, in seconds (unset: six heartbeat
   * intervals, 30 s). NATS away for less than the lease minus one interval only delays jobs
   * (docs/failure-model.md); a lost agent is noticed after it.
   */
  SLUICE_LEASE_SECONDS: z.preprocess(
    emptyAsUndefined,
    z.coerce
      .number({ message: "a whole number of seconds from 2 to 3600" })
      .int({ message: "a whole number of seconds from 2 to 3600" })
      .min(2, { message: "a whole number of seconds from 2 to 3600" })
      .max(3600, { message: "a whole number of seconds from 2 to 3600" })
      .optional(),
  ),
});

export interface RequestLimits {
  maxCost: number;
  maxTokens: number;
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxMutations: number;
  maxBodyBytes: number;
}

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  natsUrl: string[];
  natsPrefix: string;
  /** SLUICE_NATS_REPLICAS: 1, or 3 on a NATS cluster. */
  natsReplicas: number;
  /** SLUICE_NATS_INSECURE=1: NATS without authentication. */
  natsInsecure: boolean;
  natsCredentialsSeconds: number;
  /** SLUICE_NATS_CA_FILE: connect to NATS over TLS, trusting this CA. */
  natsCaFile: string | undefined;
  dataDir: string;
  adminToken: string | undefined;
  /** SLUICE_MASTER_KEY and SLUICE_MASTER_KEY_FILE (persistence/secret-vault.ts). */
  masterKey: { keys: string | undefined; file: string | undefined };
  /** SLUICE_METRICS: collect metrics and serve /metrics (off: neither, and no cost). */
  metrics: boolean;
  metricsToken: string | undefined;
  metricsPublic: boolean;
  maxPipelines: number;
  /** What one GraphQL request may ask (graphql/limits.ts, http/errors.ts). */
  requestLimits: RequestLimits;
  development: boolean;
  logLevel: z.infer<typeof envSchema>["LOG_LEVEL"];
  logFormat: "json" | "pretty";
  shutdownTimeoutMs: number;
  heartbeatIntervalSeconds: number;
  /** A job's lease: SLUICE_LEASE_SECONDS, at least two heartbeat intervals. */
  leaseSeconds: number;
  dbQueryTimeoutMs: number;
  publicUrl: string;
  /** Serve HTTPS (and wss) with these PEM files; null: plain HTTP. */
  tls: { certFile: string; keyFile: string } | null;
  notifications: NotificationSettings;
  retention: RetentionSettings;
  retentionIntervalMs: number;
  /** SLUICE_AUDIT_REFUSAL_WINDOW_SECONDS in ms. */
  refusalWindowMs: number;
  /**
   * SLUICE_OUTBOX_DIRECT (default on): publish what a commit wrote at once (engine/README.md).
   * Off: everything goes through the relay's advisory lock, one transaction per batch, in the
   * outbox's order across server copies.
   */
  outboxDirect: boolean;
  startupTimeoutMs: number;
  /** OpenID Connect single sign-on (SLUICE_OIDC_*, oidc-config.ts); null when off. */
  oidc: OidcSettings | null;
  /** SLUICE_SESSION_TTL: the lifetime of a session token (password sign-in, SSO). */
  sessionTtlMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Reads the configuration; throws one ConfigError naming every bad variable and what it expects. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? "environment");
      // A token's value is a secret even when it is a bad one: the message names it, never shows it.
      const shown = /TOKEN|SECRET|PASSWORD|KEY/.test(name) ? "(hidden)" : JSON.stringify(env[name] ?? "");
      return `${name}=${shown} is invalid: expected ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  const e = parsed.data;
  const signIn = readSignInSettings(env);
  if (signIn.problems.length > 0) throw new ConfigError(signIn.problems);
  if (Boolean(e.SLUICE_TLS_CERT_FILE) !== Boolean(e.SLUICE_TLS_KEY_FILE)) {
    throw new ConfigError([
      `${e.SLUICE_TLS_CERT_FILE ? "SLUICE_TLS_KEY_FILE" : "SLUICE_TLS_CERT_FILE"} is missing: HTTPS needs both SLUICE_TLS_CERT_FILE and SLUICE_TLS_KEY_FILE`,
    ]);
  }
  const tls =
    e.SLUICE_TLS_CERT_FILE && e.SLUICE_TLS_KEY_FILE
      ? { certFile: path.resolve(e.SLUICE_TLS_CERT_FILE), keyFile: path.resolve(e.SLUICE_TLS_KEY_FILE) }
      : null;
  const scheme = tls ? "https" : "http";
  return {
    port: e.PORT,
    host: e.SLUICE_HOST ?? e.HOST,
    databaseUrl: e.DATABASE_URL,
    natsUrl: e.NATS_URL.split(",").map((s) => s.trim()),
    natsPrefix: e.SLUICE_NATS_PREFIX,
    natsReplicas: Number(e.SLUICE_NATS_REPLICAS),
    natsInsecure: e.SLUICE_NATS_INSECURE === "1" || e.SLUICE_NATS_INSECURE === "true",
    natsCredentialsSeconds: e.SLUICE_NATS_CREDENTIALS_SECONDS,
    natsCaFile: e.SLUICE_NATS_CA_FILE,
    dataDir: path.resolve(e.SLUICE_DATA_DIR),
    adminToken: e.SLUICE_ADMIN_TOKEN,
    masterKey: {
      keys: e.SLUICE_MASTER_KEY,
      file: e.SLUICE_MASTER_KEY_FILE ? path.resolve(e.SLUICE_MASTER_KEY_FILE) : undefined,
    },
    metrics: e.SLUICE_METRICS === "1" || e.SLUICE_METRICS === "true",
    metricsToken: e.SLUICE_METRICS_TOKEN,
    metricsPublic: e.SLUICE_METRICS_PUBLIC === "1" || e.SLUICE_METRICS_PUBLIC === "true",
    outboxDirect: e.SLUICE_OUTBOX_DIRECT === "1" || e.SLUICE_OUTBOX_DIRECT === "true",
    maxPipelines: e.SLUICE_MAX_PIPELINES,
    requestLimits: {
      maxCost: e.SLUICE_MAX_QUERY_COST,
      maxTokens: e.SLUICE_MAX_QUERY_TOKENS,
      maxDepth: e.SLUICE_MAX_QUERY_DEPTH,
      maxAliases: e.SLUICE_MAX_ALIASES,
      maxRootFields: e.SLUICE_MAX_ROOT_FIELDS,
      maxMutations: e.SLUICE_MAX_MUTATIONS,
      maxBodyBytes: e.SLUICE_MAX_BODY_BYTES,
    },
    development: e.NODE_ENV === "development",
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    shutdownTimeoutMs: e.SLUICE_SHUTDOWN_TIMEOUT_MS,
    heartbeatIntervalSeconds: e.SLUICE_HEARTBEAT_INTERVAL_SECONDS,
    leaseSeconds: Math.max(
      e.SLUICE_LEASE_SECONDS ?? e.SLUICE_HEARTBEAT_INTERVAL_SECONDS * 6,
      e.SLUICE_HEARTBEAT_INTERVAL_SECONDS * 2,
    ),
    dbQueryTimeoutMs: e.SLUICE_DB_QUERY_TIMEOUT_MS,
    startupTimeoutMs: e.SLUICE_STARTUP_TIMEOUT_SECONDS * 1000,
    oidc: signIn.settings.oidc,
    sessionTtlMs: e.SLUICE_SESSION_TTL * 1000,
    publicUrl: (e.SLUICE_PUBLIC_URL ?? `${scheme}://localhost:${e.PORT}`).replace(/\/+$/, ""),
    tls,
    retention: {
      executionDays: e.SLUICE_RETENTION_DAYS,
      maxExecutions: e.SLUICE_RETENTION_MAX_EXECUTIONS,
      pipelines: e.SLUICE_RETENTION_PIPELINES,
      auditDays: e.SLUICE_AUDIT_RETENTION_DAYS,
      notificationDays: e.SLUICE_NOTIFY_RETENTION_DAYS,
    },
    retentionIntervalMs: e.SLUICE_RETENTION_INTERVAL_SECONDS * 1000,
    refusalWindowMs: e.SLUICE_AUDIT_REFUSAL_WINDOW_SECONDS * 1000,
    notifications: {
      dashboardUrl: (
        e.SLUICE_DASHBOARD_URL ??
        e.SLUICE_PUBLIC_URL ??
        `${scheme}://localhost:${e.PORT}`
      ).replace(/\/+$/, ""),
      smtpUrl: e.SLUICE_SMTP_URL,
      smtpFrom: e.SLUICE_SMTP_FROM,
      caFile: e.SLUICE_NOTIFY_CA_FILE,
      allowHttp: e.SLUICE_NOTIFY_ALLOW_HTTP === "true",
      allowPrivate: e.SLUICE_NOTIFY_ALLOW_PRIVATE === "true",
      timeoutMs: e.SLUICE_NOTIFY_TIMEOUT_MS,
      retryBaseMs: e.SLUICE_NOTIFY_RETRY_BASE_MS,
      retryMaxDelayMs: e.SLUICE_NOTIFY_RETRY_MAX_DELAY_MS,
      retryForMs: e.SLUICE_NOTIFY_RETRY_FOR_SECONDS * 1000,
      concurrencyPerTarget: e.SLUICE_NOTIFY_CONCURRENCY_PER_TARGET,
      circuitThreshold: e.SLUICE_NOTIFY_CIRCUIT_THRESHOLD,
      circuitOpenMs: e.SLUICE_NOTIFY_CIRCUIT_OPEN_MS,
    },
  };
}
