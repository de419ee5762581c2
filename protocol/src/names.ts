/**
 * Every subject, stream, consumer, queue group and bucket name, built from the installation prefix
 * (PROTOCOL.md, section 3), and the subject tokens that keep user-chosen names from adding tokens or
 * wildcards to a subject.
 */
import type { ActionTypeId } from "./messages";
import {
  ACTION_CATEGORIES,
  ACTION_OWNERS,
  DEFAULT_ACCOUNT,
  DEFAULT_PREFIX,
  PATTERNS,
  type Pattern,
} from "./vocabulary";

// ---------------------------------------------------------------------------------------------
// Tokens (3.2)

const COPIED = /^[A-Za-z0-9_-]$/;
const TOKEN = /^(?:[A-Za-z0-9_-]|=[0-9A-F]{2})+$/;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The subject token of a value: `A-Z a-z 0-9 _ -` copied, every other character written as its
 * UTF-8 bytes, `=` and two uppercase hex digits each. `web.app@v2` → `web=2Eapp=40v2`.
 */
export function tokenize(value: string): string {
  if (value.length === 0) throw new TypeError("An empty string has no subject token.");
  if (LONE_SURROGATE.test(value)) {
    throw new TypeError(`${JSON.stringify(value)} is not well-formed Unicode and has no subject token.`);
  }
  let token = "";
  for (const char of value) {
    if (COPIED.test(char)) token += char;
    else
      for (const byte of utf8.encode(char)) token += `=${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return token;
}

/** The value of a token; null for anything `tokenize` would not have produced. */
export function tryUntokenize(token: string): string | null {
  if (!TOKEN.test(token)) return null;
  const bytes: number[] = [];
  for (let i = 0; i < token.length;) {
    if (token[i] === "=") {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      bytes.push(token.charCodeAt(i));
      i += 1;
    }
  }
  let value: string;
  try {
    value = strictUtf8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
  // Only the canonical form: no escaped character that needed no escape.
  return tokenize(value) === token ? value : null;
}

export function untokenize(token: string): string {
  const value = tryUntokenize(token);
  if (value === null)
    throw new TypeError(`${JSON.stringify(token)} is not a subject token made by tokenize().`);
  return value;
}

/** A part of a durable consumer name: a token in which `_` is escaped too, so `_` can separate parts. */
function consumerPart(value: string): string {
  return tokenize(value).replaceAll("_", "=5F");
}

// ---------------------------------------------------------------------------------------------
// Checks for the values builders put into names: a bad one is a programming error.

export function isValidPrefix(prefix: string): boolean {
  return PATTERNS.prefix.regex.test(prefix);
}

function checked(what: string, value: string, pattern: Pattern): string {
  if (!pattern.regex.test(value)) {
    throw new TypeError(`${what} ${JSON.stringify(value)} is not valid: use ${pattern.rule}.`);
  }
  return value;
}

function checkedType(type: ActionTypeId): ActionTypeId {
  if (!(ACTION_CATEGORIES as readonly string[]).includes(type.category)) {
    throw new TypeError(
      `Action category ${JSON.stringify(type.category)} is not one of ${ACTION_CATEGORIES.join(", ")}.`,
    );
  }
  if (!(ACTION_OWNERS as readonly string[]).includes(type.owner)) {
    throw new TypeError(
      `Action owner ${JSON.stringify(type.owner)} is not one of ${ACTION_OWNERS.join(", ")}.`,
    );
  }
  checked("Provider", type.provider, PATTERNS.provider);
  checked("Version", type.version, PATTERNS.version);
  return type;
}

function typeParts(type: ActionTypeId): string[] {
  const { category, owner, provider, version } = checkedType(type);
  return [category, owner, provider, version];
}

/**
 * The account tokens of a job subject or consumer: none for the default account (its subjects are
 * those of installations from before accounts), the account otherwise.
 */
function accountParts(account: string): string[] {
  return account === DEFAULT_ACCOUNT ? [] : [checked("Account", account, PATTERNS.account)];
}

// ---------------------------------------------------------------------------------------------
// Names of one installation (3.3)

/** A subject split into what it addresses, and the kind of message it carries (codec.ts). */
export type ParsedSubject =
  | { kind: "job"; message: "job"; pool: string; actionTypeId: ActionTypeId; account: string }
  | { kind: "accept"; message: "accept" }
  | { kind: "heartbeat"; message: "heartbeat" }
  | { kind: "complete"; message: "complete" }
  | { kind: "logs"; message: "logChunk"; jobId: string }
  | { kind: "cancel"; message: "cancel"; jobId: string }
  | { kind: "agentCancel"; message: "cancel"; agentId: string }
  | { kind: "register"; message: "registerRequest" }
  | { kind: "agentHeartbeat"; message: "agentHeartbeat" }
  | { kind: "secrets"; message: "secretsRequest" }
  | { kind: "events"; message: "pipelineEvent"; pipelineName: string };

export interface NatsNames {
  readonly prefix: string;
  readonly streams: {
    readonly jobs: string;
    readonly results: string;
    readonly logs: string;
    readonly cancel: string;
    readonly events: string;
    readonly installation: string;
  };
  /** The subjects each stream holds. */
  readonly wildcards: {
    readonly jobs: string;
    readonly results: string;
    readonly logs: string;
    readonly cancel: string;
    readonly events: string;
    readonly installation: string;
  };
  readonly subjects: {
    /**
     * The jobs of one pool of one account for one action type: `jobs.<pool>.<type…>` in the
     * default account (as before accounts), `jobs.<account>.<pool>.<type…>` in any other, so that
     * an agent of one account can never be granted another account's jobs (11.3).
     */
    job(pool: string, actionTypeId: ActionTypeId, account?: string): string;
    readonly accept: string;
    readonly heartbeat: string;
    readonly complete: string;
    log(jobId: string): string;
    cancel(jobId: string): string;
    agentCancel(agentId: string): string;
    readonly register: string;
    readonly agentHeartbeat: string;
    /** Core NATS requests for a job's secret values, sealed for the asking agent (5.11). */
    readonly secrets: string;
    event(pipelineName: string): string;
    /** Which installation (database) uses this prefix: the server's claim, 4.3. */
    readonly installation: string;
  };
  readonly consumers: {
    /** The durable consumer on the results stream shared by every server copy. */
    readonly engine: string;
    /** The durable consumer of one pool (of one account) and action type on the jobs stream. */
    job(pool: string, actionTypeId: ActionTypeId, account?: string): string;
  };
  /** The core NATS queue group in which server copies answer registrations and agent heartbeats. */
  readonly queueGroup: string;
  readonly artifactsBucket: string;
  /** What a subject of this installation addresses; null for any other subject. */
  parse(subject: string): ParsedSubject | null;
}

/** The names of the installation with this prefix (SLUICE_NATS_PREFIX, default `sluice`). */
export function natsNames(prefix: string = DEFAULT_PREFIX): NatsNames {
  checked("NATS prefix", prefix, PATTERNS.prefix);
  const p = prefix;
  const subject = (...tokens: string[]) => [p, ...tokens].join(".");
  const jobTokens = (pool: string, type: ActionTypeId, account: string) => [
    ...accountParts(account).map(tokenize),
    tokenize(checked("Pool", pool, PATTERNS.pool)),
    ...typeParts(type).map(tokenize),
  ];
  return Object.freeze({
    prefix: p,
    streams: Object.freeze({
      jobs: `${p}_JOBS`,
      results: `${p}_RESULTS`,
      logs: `${p}_LOGS`,
      cancel: `${p}_CANCEL`,
      events: `${p}_EVENTS`,
      installation: `${p}_INSTALLATION`,
    }),
    wildcards: Object.freeze({
      jobs: subject("jobs", ">"),
      results: subject("results", ">"),
      logs: subject("logs", ">"),
      cancel: subject("cancel", ">"),
      events: subject("events", ">"),
      installation: `${p}.installation`,
    }),
    subjects: Object.freeze({
      job: (pool: string, type: ActionTypeId, account = DEFAULT_ACCOUNT) =>
        subject("jobs", ...jobTokens(pool, type, account)),
      accept: subject("results", "accept"),
      heartbeat: subject("results", "heartbeat"),
      complete: subject("results", "complete"),
      log: (jobId: string) => subject("logs", tokenize(checked("Job id", jobId, PATTERNS.id))),
      cancel: (jobId: string) => subject("cancel", tokenize(checked("Job id", jobId, PATTERNS.id))),
      agentCancel: (agentId: string) =>
        subject("agents", tokenize(checked("Agent id", agentId, PATTERNS.id)), "cancel"),
      register: subject("agents", "register"),
      agentHeartbeat: subject("agents", "heartbeat"),
      secrets: subject("agents", "secrets"),
      event: (pipelineName: string) => subject("events", tokenize(pipelineName)),
      installation: `${p}.installation`,
    }),
    consumers: Object.freeze({
      engine: `${p}_engine`,
      job: (pool: string, type: ActionTypeId, account = DEFAULT_ACCOUNT) =>
        [
          `${p}_jobs`,
          ...[...accountParts(account), checked("Pool", pool, PATTERNS.pool), ...typeParts(type)].map(
            consumerPart,
          ),
        ].join("_"),
    }),
    queueGroup: `${p}_engine`,
    artifactsBucket: `${p}_artifacts`,
    parse: (s: string) => parseSubject(p, s),
  });
}

function parseSubject(prefix: string, subject: string): ParsedSubject | null {
  const tokens = subject.split(".");
  if (tokens[0] !== prefix || tokens.length < 3) return null;
  const [, area, ...rest] = tokens;
  switch (area) {
    case "jobs":
      return parseJob(rest);
    case "results":
      if (rest.length !== 1) return null;
      if (rest[0] === "accept") return { kind: "accept", message: "accept" };
      if (rest[0] === "heartbeat") return { kind: "heartbeat", message: "heartbeat" };
      if (rest[0] === "complete") return { kind: "complete", message: "complete" };
      return null;
    case "logs": {
      const jobId = single(rest, PATTERNS.id);
      return jobId === null ? null : { kind: "logs", message: "logChunk", jobId };
    }
    case "cancel": {
      const jobId = single(rest, PATTERNS.id);
      return jobId === null ? null : { kind: "cancel", message: "cancel", jobId };
    }
    case "agents":
      return parseAgents(rest);
    case "events": {
      const pipelineName = rest.length === 1 ? tryUntokenize(rest[0] ?? "") : null;
      return pipelineName === null ? null : { kind: "events", message: "pipelineEvent", pipelineName };
    }
    default:
      return null;
  }
}

function single(tokens: string[], pattern: Pattern): string | null {
  if (tokens.length !== 1) return null;
  const value = tryUntokenize(tokens[0] ?? "");
  return value !== null && pattern.regex.test(value) ? value : null;
}

function parseJob(tokens: string[]): ParsedSubject | null {
  if (tokens.length !== 5 && tokens.length !== 6) return null;
  let account = DEFAULT_ACCOUNT;
  if (tokens.length === 6) {
    const value = tryUntokenize(tokens[0] ?? "");
    // The default account's jobs have no account token: `jobs.default.…` is a pool named default.
    if (value === null || value === DEFAULT_ACCOUNT || !PATTERNS.account.regex.test(value)) return null;
    account = value;
  }
  const values = tokens.slice(tokens.length - 5).map(tryUntokenize);
  const [pool, category, owner, provider, version] = values;
  if (pool == null || category == null || owner == null || provider == null || version == null) return null;
  if (!PATTERNS.pool.regex.test(pool)) return null;
  const type = { category, owner, provider, version } as ActionTypeId;
  try {
    checkedType(type);
  } catch {
    return null;
  }
  return { kind: "job", message: "job", pool, actionTypeId: type, account };
}

function parseAgents(tokens: string[]): ParsedSubject | null {
  if (tokens.length === 1 && tokens[0] === "register")
    return { kind: "register", message: "registerRequest" };
  if (tokens.length === 1 && tokens[0] === "heartbeat")
    return { kind: "agentHeartbeat", message: "agentHeartbeat" };
  if (tokens.length === 1 && tokens[0] === "secrets") return { kind: "secrets", message: "secretsRequest" };
  if (tokens.length === 2 && tokens[1] === "cancel") {
    const agentId = single(tokens.slice(0, 1), PATTERNS.id);
    return agentId === null ? null : { kind: "agentCancel", message: "cancel", agentId };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// De-duplication ids (3.4) and artifact object names (section 9)

/** `Nats-Msg-Id` of each message that has one; the same message published again keeps its id. */
export const msgIds = Object.freeze({
  job: (jobId: string, attempt: number) => `job:${jobId}:${attempt}`,
  // One id per attempt, whoever accepts it: the first stored accept is the claim on the job (6.5).
  accept: (jobId: string, attempt: number) => `accept:${jobId}:${attempt}`,
  complete: (jobId: string, attempt: number, agentId: string) => `complete:${jobId}:${attempt}:${agentId}`,
  logChunk: (jobId: string, attempt: number, sequence: number) => `log:${jobId}:${attempt}:${sequence}`,
  cancel: (jobId: string, attempt: number) => `cancel:${jobId}:${attempt}`,
  pipelineEvent: (executionId: string, sequence: number) => `event:${executionId}:${sequence}`,
});

/** `<executionId>/`: where every object of an execution lives (purged with it). */
export function executionArtifactKeyPrefix(executionId: string): string {
  return `${checked("Execution id", executionId, PATTERNS.id)}/`;
}

/**
 * `<executionId>/<jobId>/<attempt>/`: where one attempt of one action stores its outputs, so that
 * no attempt can overwrite the objects of another action, execution or attempt.
 */
export function outputArtifactKeyPrefix(executionId: string, jobId: string, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 1)
    throw new Error(`Attempt must be a positive integer; got ${attempt}`);
  return `${executionArtifactKeyPrefix(executionId)}${checked("Job id", jobId, PATTERNS.id)}/${attempt}/`;
}

/** `<executionId>/<jobId>/<attempt>/<artifactName>`: the object of an artifact in the artifacts bucket. */
export function artifactKey(
  executionId: string,
  jobId: string,
  attempt: number,
  artifactName: string,
): string {
  return (
    outputArtifactKeyPrefix(executionId, jobId, attempt) +
    checked("Artifact name", artifactName, PATTERNS.artifactName)
  );
}
