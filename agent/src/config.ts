/**
 * The agent's settings from its command line and environment (flags win). Every bad value is
 * reported at once, each with the flag and variable that set it, so that an operator fixes a
 * deployment in one go rather than one error per restart.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Command, CommanderError, Option } from "commander";
import { z } from "zod";
import {
  DEFAULT_POOL,
  DEFAULT_PREFIX,
  LIMITS,
  MAX_SERVER_KEYS,
  PATTERNS,
  isSigningPublicKey,
  type ActionTypeId,
} from "@sluice/protocol";
import { DEFAULT_JOB_UID_RANGE, parseUidRange, runsAsRoot, type JobIsolation } from "./exec/job-users";
import { formatActionTypeId, parseActionTypeId } from "./providers/types";

export interface AgentConfig {
  /** NATS server URLs (a comma-separated list in one option). */
  natsServers: string[];
  /**
   * The server's HTTP address: the agent exchanges its token there for short-lived NATS
   * credentials (NATS with authentication), and moves its jobs' artifacts through it (always:
   * the agent has no access to the artifacts bucket). Unset only with SLUICE_NATS_INSECURE=1
   * (checked by parseConfig), and then jobs with artifacts fail.
   */
  serverUrl?: string;
  /**
   * SLUICE_NATS_INSECURE=1: NATS without authentication; the agent connects without credentials
   * (and uses `serverUrl` for artifacts only).
   */
  natsInsecure?: boolean;
  /** NATS over TLS: a PEM file of the CA that signed nats-server's certificate. */
  natsCaFile?: string;
  /**
   * --server-key: the only public keys whose signed jobs and cancels the agent obeys (PROTOCOL.md
   * 11.5). Unset: the keys the server sends with the NATS credentials (or, without them, in the
   * registration reply).
   */
  serverKeys?: string[];
  /** The agent's bearer token; sent only in the registration request, never logged. */
  token: string;
  /** Where the token came from: a file, the environment or the command line (main.ts scrubs them). */
  tokenSource?: "file" | "env" | "argv";
  /** The token file, when the token came from one. */
  tokenFile?: string;
  /**
   * Who jobs run as (exec/job-users.ts). parseConfig and startAgent choose: a uid per job from a
   * range when the agent is root, unless told otherwise. Absent: the agent's own user.
   */
  jobIsolation?: JobIsolation;
  name: string;
  pool: string;
  labels: Record<string, string>;
  /** The action types this agent runs: the chosen built-ins plus every handler's type. */
  providers: ActionTypeId[];
  /** Custom action type (`Build/Custom/MyTool@1`) → the command that handles its jobs. */
  handlers: Record<string, string>;
  concurrency: number;
  workDir: string;
  prefix: string;
  drainTimeoutSeconds: number;
  logCapBytes: number;
  logLevel: string;
  /** json (default) or pretty, for a person at a terminal. */
  logFormat?: "json" | "pretty";
  /**
   * Unset (the default): each pull loop keeps a long-poll pull waiting on the server, so a job
   * starts within milliseconds. Set: the agent polls like GitLab Runner and GoCD agents do, asking
   * whether a job waits (a request answered at once), pulling it if so, and otherwise sleeping this
   * long before asking again (benchmarks, and brokers or proxies that cannot hold a pull open).
   */
  pollIntervalMs?: number;
  /** Set: Prometheus metrics on http://<metricsHost>:<metricsPort>/metrics (0: any free port). Unset: none. */
  metricsPort?: number;
  /** The address the metrics listen on (default 127.0.0.1: only this host scrapes). */
  metricsHost?: string;
  /**
   * Secrets kept on this host (runtime/host-references.ts): the environment variables a job may
   * name in `{{resolve:agent-env:NAME}}`, and the directory whose files `{{resolve:agent-file:PATH}}`
   * may read. None by default: a job reads nothing of the agent's own.
   */
  hostSecrets?: { env: string[]; dir?: string };
}

export type ConfigResult =
  { ok: true; config: AgentConfig } | { ok: false; errors: string[] } | { ok: "help"; text: string };

export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";
export const DEFAULT_CONCURRENCY = 2;
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 600;
/** Bounds of --poll-interval-ms: 10 ms to 10 minutes. */
export const MIN_POLL_INTERVAL_MS = 10;
export const MAX_POLL_INTERVAL_MS = 600_000;

/** Option key → how the operator sets it, for error messages. */
const SOURCES = {
  nats: "--nats (NATS_URL)",
  serverUrl: "--server-url (SLUICE_SERVER_URL)",
  insecure: "SLUICE_NATS_INSECURE",
  natsCaFile: "--nats-ca-file (SLUICE_NATS_CA_FILE)",
  serverKeys: "--server-key (SLUICE_SERVER_KEYS)",
  token: "--token (SLUICE_AGENT_TOKEN)",
  tokenFile: "--token-file (SLUICE_AGENT_TOKEN_FILE)",
  jobUidRange: "--job-uid-range (SLUICE_AGENT_JOB_UID_RANGE)",
  jobUser: "--job-user (SLUICE_AGENT_JOB_USER)",
  jobIsolation: "--no-job-isolation (SLUICE_AGENT_NO_JOB_ISOLATION)",
  name: "--name (SLUICE_AGENT_NAME)",
  pool: "--pool (SLUICE_AGENT_POOL)",
  labels: "--labels (SLUICE_AGENT_LABELS)",
  providers: "--providers (SLUICE_AGENT_PROVIDERS)",
  handler: "--handler (SLUICE_AGENT_HANDLERS)",
  concurrency: "--concurrency (SLUICE_AGENT_CONCURRENCY)",
  workDir: "--work-dir (SLUICE_AGENT_WORK_DIR)",
  prefix: "--prefix (SLUICE_NATS_PREFIX)",
  drainTimeout: "--drain-timeout (SLUICE_AGENT_DRAIN_TIMEOUT_SECONDS)",
  logCapBytes: "--log-cap-bytes (SLUICE_AGENT_LOG_CAP_BYTES)",
  logLevel: "--log-level (SLUICE_LOG_LEVEL)",
  logFormat: "--log-format (LOG_FORMAT)",
  pollIntervalMs: "--poll-interval-ms (SLUICE_AGENT_POLL_INTERVAL_MS)",
  metricsPort: "--metrics-port (SLUICE_AGENT_METRICS_PORT)",
  metricsHost: "--metrics-host (SLUICE_AGENT_METRICS_HOST)",
  secretEnv: "--secret-env (SLUICE_AGENT_SECRET_ENV)",
  secretDir: "--secret-dir (SLUICE_AGENT_SECRET_DIR)",
} as const;
type Key = keyof typeof SOURCES;

/** The host name as an agent name: characters outside `A-Z a-z 0-9 . @ _ -` become `-`. */
export function defaultAgentName(hostname: string = os.hostname()): string {
  const name = hostname.replace(/[^A-Za-z0-9.@_-]/g, "-").slice(0, 100);
  return name.length > 0 ? name : "sluice-agent";
}

/**
 * `Build/Sluice/Shell@1`; `Custom/Build/MyTool@1` (owner first) is read as `Build/Custom/MyTool@1`
 * because operators write custom types both ways round.
 */
export function parseTypeOption(text: string): ActionTypeId {
  const swapped = /^(Sluice|Custom)\/(Source|Build|Test|Deploy|Approval|Invoke)\/(.*)$/.exec(text.trim());
  return parseActionTypeId(swapped ? `${swapped[2]}/${swapped[1]}/${swapped[3]}` : text);
}

const intText = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `must be a whole number from ${min} to ${max}` })
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const actionTypeText = z.string().transform((text, ctx) => {
  try {
    return parseTypeOption(text);
  } catch (error) {
    ctx.addIssue({ code: "custom", message: (error as Error).message });
    return z.NEVER;
  }
});

const schema = z.object({
  nats: z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((u) => u.trim())
        .filter((u) => u.length > 0),
    )
    .pipe(z.array(z.string().regex(/^(nats|tls|ws|wss):\/\/\S+$/, "must be a nats:// URL")).min(1)),
  serverUrl: z
    .string()
    .regex(/^https?:\/\/\S+$/, "must be an http:// or https:// URL")
    .optional(),
  insecure: z.enum(["0", "1", "true", "false"], { error: "must be 1 or 0" }),
  natsCaFile: z.string().min(1).optional(),
  serverKeys: z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((k) => k.trim())
        .filter((k) => k.length > 0),
    )
    .pipe(
      z
        .array(
          z.string().refine(isSigningPublicKey, "must be ed25519 public keys (43 base64url characters each)"),
        )
        .min(1, "must name at least one key")
        .max(MAX_SERVER_KEYS),
    )
    .optional(),
  token: z
    .string({ error: "is required" })
    .min(LIMITS.tokenMinLength, `must be ${LIMITS.tokenMinLength} to ${LIMITS.tokenMaxLength} characters`)
    .max(LIMITS.tokenMaxLength, `must be ${LIMITS.tokenMinLength} to ${LIMITS.tokenMaxLength} characters`),
  name: z.string().regex(PATTERNS.agentName.regex, `must be ${PATTERNS.agentName.rule}`),
  pool: z.string().regex(PATTERNS.pool.regex, `must be ${PATTERNS.pool.rule}`),
  labels: z.string().transform((text, ctx) => {
    const labels: Record<string, string> = {};
    for (const pair of text.split(",").map((p) => p.trim())) {
      if (pair === "") continue;
      const eq = pair.indexOf("=");
      const key = eq === -1 ? pair : pair.slice(0, eq);
      const value = eq === -1 ? "" : pair.slice(eq + 1);
      if (eq === -1) ctx.addIssue({ code: "custom", message: `${JSON.stringify(pair)} is not key=value` });
      else if (!PATTERNS.labelKey.regex.test(key))
        ctx.addIssue({
          code: "custom",
          message: `label key ${JSON.stringify(key)} must be ${PATTERNS.labelKey.rule}`,
        });
      else if (value.length > LIMITS.labelValueLength)
        ctx.addIssue({
          code: "custom",
          message: `label ${key} is longer than ${LIMITS.labelValueLength} characters`,
        });
      else labels[key] = value;
    }
    if (Object.keys(labels).length > LIMITS.labels)
      ctx.addIssue({ code: "custom", message: `at most ${LIMITS.labels} labels` });
    return labels;
  }),
  providers: z.array(actionTypeText),
  handler: z.array(
    z.string().transform((text, ctx) => {
      const eq = text.indexOf("=");
      if (eq === -1 || eq === text.length - 1) {
        ctx.addIssue({
          code: "custom",
          message: `${JSON.stringify(text)} is not Category/Custom/Name@Version=command`,
        });
        return z.NEVER;
      }
      try {
        const type = parseTypeOption(text.slice(0, eq));
        if (type.owner !== "Custom") {
          ctx.addIssue({
            code: "custom",
            message: `${formatActionTypeId(type)}: handlers are for Custom action types`,
          });
          return z.NEVER;
        }
        return { type, command: text.slice(eq + 1).trim() };
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }),
  ),
  concurrency: intText(1, LIMITS.agentCapacity),
  workDir: z
    .string()
    .min(1)
    .transform((d) => path.resolve(d)),
  prefix: z.string().regex(PATTERNS.prefix.regex, `must be ${PATTERNS.prefix.rule}`),
  drainTimeout: intText(0, 7 * 24 * 3600),
  logCapBytes: intText(1024, LIMITS.logBytesPerAttempt),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]),
  pollIntervalMs: intText(MIN_POLL_INTERVAL_MS, MAX_POLL_INTERVAL_MS).optional(),
  metricsPort: intText(0, 65535).optional(),
  logFormat: z.enum(["json", "pretty"], { error: "must be json or pretty" }),
  metricsHost: z.string().regex(/^[\w.:-]{1,255}$/, "must be a host name or an IP address"),
  secretEnv: z.array(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, "must be environment variable names, comma-separated")
      .refine((name) => !/^(SLUICE_AGENT_|NATS_)/.test(name), {
        error: "must not name the agent's own settings (SLUICE_AGENT_*, NATS_*)",
      }),
  ),
  secretDir: z
    .string()
    .min(1)
    .transform((d) => path.resolve(d))
    .optional(),
});

/**
 * Reads argv (without node and the script) and the environment. `defaultProviders` are the
 * built-in types run when neither `--providers` nor SLUICE_AGENT_PROVIDERS says otherwise.
 */
export function parseConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  defaultProviders: readonly ActionTypeId[],
  /** Whether the agent runs as root (jobs then run as other users). */
  root: boolean = runsAsRoot(),
): ConfigResult {
  const program = new Command("sluice-agent")
    .description("The Sluice build agent: takes jobs from NATS JetStream, runs them, reports results.")
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .helpOption("-h, --help", "show this help")
    .addOption(
      new Option("--nats <urls>", `NATS server URL(s), comma-separated (default ${DEFAULT_NATS_URL})`),
    )
    .addOption(
      new Option(
        "--server-url <url>",
        "the Sluice server's address, where the agent gets its NATS credentials (e.g. https://sluice.example.com)",
      ),
    )
    .addOption(
      new Option(
        "--nats-ca-file <file>",
        "NATS over TLS: the CA (PEM) that signed nats-server's certificate",
      ),
    )
    .addOption(
      new Option(
        "--server-key <keys>",
        "pin the public key(s) that sign the server's jobs and cancels, comma-separated (default: the keys the server sends)",
      ),
    )
    .addOption(
      new Option("--token <token>", "the agent's token (prefer --token-file: argv is visible to every user)"),
    )
    .addOption(new Option("--token-file <path>", "a file (mode 0600) holding the agent's token"))
    .addOption(
      new Option(
        "--job-uid-range <from-to>",
        `as root: run each job as a uid of its own from this range (default ${DEFAULT_JOB_UID_RANGE.from}-${DEFAULT_JOB_UID_RANGE.to})`,
      ),
    )
    .addOption(
      new Option("--job-user <name>", "as root: run every job as this user instead of a uid per job"),
    )
    .addOption(
      new Option(
        "--no-job-isolation",
        "as root: run jobs as root too (unsafe: a job can read the agent's token)",
      ),
    )
    .addOption(new Option("--name <name>", "agent name (default: the host name)"))
    .addOption(new Option("--pool <pool>", `the pool it serves (default ${DEFAULT_POOL})`))
    .addOption(new Option("--labels <k=v,...>", "labels shown with the agent"))
    .addOption(
      new Option("--providers <types>", "action types to run, comma-separated (default: the built-ins)"),
    )
    .addOption(
      new Option(
        "--handler <type=command>",
        "a Custom action type and the command that runs it (repeatable)",
      ).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .addOption(new Option("--concurrency <n>", `jobs run at once (default ${DEFAULT_CONCURRENCY})`))
    .addOption(new Option("--work-dir <dir>", "where job workspaces are made (default: <tmp>/sluice-agent)"))
    .addOption(
      new Option("--prefix <prefix>", `NATS name prefix of the installation (default ${DEFAULT_PREFIX})`),
    )
    .addOption(
      new Option(
        "--drain-timeout <seconds>",
        `on SIGTERM, wait this long for running jobs (default ${DEFAULT_DRAIN_TIMEOUT_SECONDS})`,
      ),
    )
    .addOption(
      new Option(
        "--log-cap-bytes <n>",
        `job log bytes kept per attempt (default ${LIMITS.logBytesPerAttempt})`,
      ),
    )
    .addOption(new Option("--log-level <level>", "the agent's own log level (default info)"))
    .addOption(new Option("--log-format <format>", "json (default) or pretty, for a person at a terminal"))
    .addOption(
      new Option(
        "--poll-interval-ms <ms>",
        "poll for jobs every this many ms instead of keeping a long-poll open (default: long-poll)",
      ),
    )
    .addOption(new Option("--metrics-port <port>", "serve Prometheus metrics on this port (default: off)"))
    .addOption(new Option("--metrics-host <host>", "the address metrics listen on (default 127.0.0.1)"))
    .addOption(
      new Option(
        "--secret-env <names>",
        "environment variables jobs may read as {{resolve:agent-env:NAME}}, comma-separated (default: none)",
      ),
    )
    .addOption(
      new Option(
        "--secret-dir <dir>",
        "the directory whose files jobs may read as {{resolve:agent-file:PATH}} (default: none)",
      ),
    );

  let flags: Record<string, string | string[] | boolean | undefined>;
  try {
    program.parse([...argv], { from: "user" });
    flags = program.opts();
  } catch (error) {
    if (error instanceof CommanderError && error.code === "commander.helpDisplayed") {
      return { ok: "help", text: program.helpInformation() };
    }
    return { ok: false, errors: [(error as Error).message.replace(/^error: /, "")] };
  }
  if (program.args.length > 0) {
    return { ok: false, errors: [`unexpected argument(s): ${program.args.join(" ")}`] };
  }

  const str = (
    flag: string | string[] | boolean | undefined,
    envValue: string | undefined,
    fallback?: string,
  ) =>
    (typeof flag === "string" ? flag : undefined) ??
    (envValue !== undefined && envValue !== "" ? envValue : fallback);
  const providersText = str(flags.providers, env.SLUICE_AGENT_PROVIDERS);
  const handlerTexts =
    (flags.handler as string[] | undefined) ??
    (env.SLUICE_AGENT_HANDLERS ?? "")
      .split(";")
      .map((h) => h.trim())
      .filter((h) => h.length > 0);

  const tokenFile = str(flags.tokenFile, env.SLUICE_AGENT_TOKEN_FILE);
  const tokenGiven = str(flags.token, env.SLUICE_AGENT_TOKEN);
  const early: string[] = [];
  let fileToken: string | undefined;
  if (tokenFile !== undefined) {
    if (tokenGiven !== undefined)
      early.push(`${SOURCES.tokenFile}: give the token or a token file, not both`);
    try {
      fileToken = fs.readFileSync(tokenFile, "utf8").trim();
    } catch (error) {
      early.push(
        `${SOURCES.tokenFile}: cannot read ${tokenFile} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      );
    }
  }
  const tokenSource: AgentConfig["tokenSource"] =
    tokenFile !== undefined ? "file" : typeof flags.token === "string" ? "argv" : "env";

  const raw = {
    nats: str(flags.nats, env.NATS_URL, DEFAULT_NATS_URL),
    serverUrl: str(flags.serverUrl, env.SLUICE_SERVER_URL),
    insecure: str(undefined, env.SLUICE_NATS_INSECURE, "0"),
    natsCaFile: str(flags.natsCaFile, env.SLUICE_NATS_CA_FILE),
    serverKeys: str(flags.serverKey, env.SLUICE_SERVER_KEYS),
    token: tokenFile !== undefined ? (fileToken ?? "x".repeat(LIMITS.tokenMinLength)) : tokenGiven,
    name: str(flags.name, env.SLUICE_AGENT_NAME, defaultAgentName()),
    pool: str(flags.pool, env.SLUICE_AGENT_POOL, DEFAULT_POOL),
    labels: str(flags.labels, env.SLUICE_AGENT_LABELS, ""),
    providers:
      providersText === undefined
        ? defaultProviders.map(formatActionTypeId)
        : providersText
            .split(",")
            .map((p) => p.trim())
            .filter((p) => p.length > 0),
    handler: handlerTexts,
    concurrency: str(flags.concurrency, env.SLUICE_AGENT_CONCURRENCY, String(DEFAULT_CONCURRENCY)),
    workDir: str(flags.workDir, env.SLUICE_AGENT_WORK_DIR, path.join(os.tmpdir(), "sluice-agent")),
    prefix: str(flags.prefix, env.SLUICE_NATS_PREFIX, DEFAULT_PREFIX),
    drainTimeout: str(
      flags.drainTimeout,
      env.SLUICE_AGENT_DRAIN_TIMEOUT_SECONDS,
      String(DEFAULT_DRAIN_TIMEOUT_SECONDS),
    ),
    logCapBytes: str(flags.logCapBytes, env.SLUICE_AGENT_LOG_CAP_BYTES, String(LIMITS.logBytesPerAttempt)),
    logLevel: str(flags.logLevel, env.SLUICE_LOG_LEVEL, "info"),
    logFormat: str(flags.logFormat, env.LOG_FORMAT, "json"),
    pollIntervalMs: str(flags.pollIntervalMs, env.SLUICE_AGENT_POLL_INTERVAL_MS),
    metricsPort: str(flags.metricsPort, env.SLUICE_AGENT_METRICS_PORT),
    metricsHost: str(flags.metricsHost, env.SLUICE_AGENT_METRICS_HOST, "127.0.0.1"),
    secretEnv: (str(flags.secretEnv, env.SLUICE_AGENT_SECRET_ENV) ?? "")
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n.length > 0),
    secretDir: str(flags.secretDir, env.SLUICE_AGENT_SECRET_DIR),
  };

  const parsed = schema.safeParse(raw);
  if (!parsed.success || early.length > 0) {
    return {
      ok: false,
      errors: [...early, ...(parsed.error?.issues ?? [])].map((issue) => {
        if (typeof issue === "string") return issue;
        const key = issue.path[0] as Key;
        if (key === "token" && tokenFile !== undefined)
          return `${SOURCES.tokenFile}: the token in ${tokenFile} ${issue.message}`;
        const given =
          issue.path[0] === "token" ? "" : describeGiven(raw[key as keyof typeof raw], issue.path.slice(1));
        return `${SOURCES[key] ?? String(key)}: ${issue.message}${given}`;
      }),
    };
  }

  const v = parsed.data;
  const handlers: Record<string, string> = {};
  const providers = new Map<string, ActionTypeId>();
  for (const type of v.providers) providers.set(formatActionTypeId(type), type);
  for (const { type, command } of v.handler) {
    handlers[formatActionTypeId(type)] = command;
    providers.set(formatActionTypeId(type), type);
  }
  const errors: string[] = [];
  const insecure = v.insecure === "1" || v.insecure === "true";
  if (v.serverUrl === undefined && !insecure)
    errors.push(
      `${SOURCES.serverUrl}: is required: the agent gets its NATS credentials from the server ` +
        "(set SLUICE_NATS_INSECURE=1 to use a NATS without authentication instead)",
    );
  if (providers.size === 0) errors.push(`${SOURCES.providers}: name at least one action type`);
  if (providers.size > LIMITS.providersPerAgent)
    errors.push(`${SOURCES.providers}: at most ${LIMITS.providersPerAgent} action types`);
  const jobIsolation = isolationOf(
    {
      uidRange: str(flags.jobUidRange, env.SLUICE_AGENT_JOB_UID_RANGE),
      user: str(flags.jobUser, env.SLUICE_AGENT_JOB_USER),
      disabled:
        flags.jobIsolation === false ||
        ["1", "true", "yes"].includes((env.SLUICE_AGENT_NO_JOB_ISOLATION ?? "").toLowerCase()),
    },
    root,
    v.concurrency,
    errors,
  );
  if (errors.length > 0 || !jobIsolation) return { ok: false, errors };

  return {
    ok: true,
    config: {
      natsServers: v.nats,
      ...(v.serverUrl === undefined ? {} : { serverUrl: v.serverUrl }),
      ...(insecure ? { natsInsecure: true } : {}),
      ...(v.natsCaFile === undefined ? {} : { natsCaFile: v.natsCaFile }),
      ...(v.serverKeys === undefined ? {} : { serverKeys: v.serverKeys }),
      token: v.token,
      tokenSource,
      ...(tokenFile === undefined ? {} : { tokenFile }),
      jobIsolation,
      name: v.name,
      pool: v.pool,
      labels: v.labels,
      providers: [...providers.values()],
      handlers,
      concurrency: v.concurrency,
      workDir: v.workDir,
      prefix: v.prefix,
      drainTimeoutSeconds: v.drainTimeout,
      logCapBytes: v.logCapBytes,
      logLevel: v.logLevel,
      logFormat: v.logFormat,
      ...(v.pollIntervalMs === undefined ? {} : { pollIntervalMs: v.pollIntervalMs }),
      ...(v.metricsPort === undefined ? {} : { metricsPort: v.metricsPort, metricsHost: v.metricsHost }),
      hostSecrets: { env: v.secretEnv, ...(v.secretDir === undefined ? {} : { dir: v.secretDir }) },
    },
  };
}

/** Who jobs run as, from the three isolation options; pushes to `errors` what does not fit. */
function isolationOf(
  given: { uidRange?: string; user?: string; disabled: boolean },
  root: boolean,
  concurrency: number,
  errors: string[],
): JobIsolation | null {
  const before = errors.length;
  if (given.uidRange !== undefined && given.user !== undefined)
    errors.push(`${SOURCES.jobUser}: give a job user or a job uid range, not both`);
  if (given.disabled && (given.uidRange !== undefined || given.user !== undefined))
    errors.push(`${SOURCES.jobIsolation}: jobs cannot both run as other users and not`);
  if (!root && (given.uidRange !== undefined || given.user !== undefined)) {
    errors.push(
      `${given.user !== undefined ? SOURCES.jobUser : SOURCES.jobUidRange}: only an agent that runs as root can run jobs as other users`,
    );
  }
  let range: { from: number; to: number } = DEFAULT_JOB_UID_RANGE;
  if (given.uidRange !== undefined) {
    const parsed = parseUidRange(given.uidRange);
    if (typeof parsed === "string")
      errors.push(`${SOURCES.jobUidRange}: ${parsed} (got ${JSON.stringify(given.uidRange)})`);
    else range = parsed;
  }
  if (given.user !== undefined && !/^[a-z_][a-z0-9_.-]{0,31}\$?$/i.test(given.user))
    errors.push(`${SOURCES.jobUser}: ${JSON.stringify(given.user)} is not a user name`);
  if (errors.length > before) return null;
  if (!root) return { mode: "none", reason: "not-root" };
  if (given.disabled) return { mode: "none", reason: "disabled" };
  if (given.user !== undefined) return { mode: "user", user: given.user };
  if (range.to - range.from + 1 < concurrency) {
    errors.push(
      `${SOURCES.jobUidRange}: ${range.from}-${range.to} has fewer uids than --concurrency runs jobs (${concurrency})`,
    );
    return null;
  }
  return { mode: "uid-range", from: range.from, to: range.to };
}

function describeGiven(value: unknown, rest: PropertyKey[]): string {
  let item = value;
  for (const key of rest) item = (item as Record<PropertyKey, unknown> | undefined)?.[key];
  if (item === undefined || typeof item === "object") return "";
  return ` (got ${JSON.stringify(item)})`;
}
