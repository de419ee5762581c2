/**
 * The words every name and message is built from: character patterns and enumerations
 * (PROTOCOL.md, sections 1 and 5). Each pattern carries the sentence used when a value breaks it.
 */

export interface Pattern {
  regex: RegExp;
  /** What a valid value looks like, for error messages: "1–64 characters from A-Z a-z 0-9 _ -". */
  rule: string;
}

function pattern(chars: string, readable: string, max: number, min = 1): Pattern {
  return {
    regex: new RegExp(`^[${chars}]{${min},${max}}$`),
    rule: `${min}–${max} characters from ${readable}`,
  };
}

const ID_CHARS = ["A-Za-z0-9_-", "A-Z a-z 0-9 _ -"] as const;
const NAME_CHARS = ["A-Za-z0-9.@_-", "A-Z a-z 0-9 . @ _ -"] as const;
const VARIABLE_CHARS = ["A-Za-z0-9@_-", "A-Z a-z 0-9 @ _ -"] as const;

export const PATTERNS = {
  /** The installation prefix (SLUICE_NATS_PREFIX). */
  prefix: pattern(...ID_CHARS, 32),
  /** jobId, executionId, agentId, pipelineExecutionId. */
  id: pattern(...ID_CHARS, 64),
  /** Pipeline, stage and action names (the pipeline model's rule). */
  name: pattern(...NAME_CHARS, 100),
  artifactName: pattern(...ID_CHARS, 100),
  /** An account (tenant) id, as SRNs carry it. */
  account: pattern(...ID_CHARS, 64),
  /** An agent pool: the `region` of an action. */
  pool: pattern(...ID_CHARS, 100),
  provider: pattern(...ID_CHARS, 35),
  version: pattern(...ID_CHARS, 9),
  /** Pipeline variables and output variables. */
  variableName: pattern(...VARIABLE_CHARS, 128),
  agentName: pattern(...NAME_CHARS, 100),
  labelKey: pattern("A-Za-z0-9._/-", "A-Z a-z 0-9 . _ / -", 63),
} as const satisfies Record<string, Pattern>;

export const ACTION_CATEGORIES = ["Source", "Build", "Test", "Deploy", "Approval", "Invoke"] as const;
export type ActionCategory = (typeof ACTION_CATEGORIES)[number];

/** `Sluice` built-ins, `Custom` user-defined types; imported AWS owners are mapped before dispatch. */
export const ACTION_OWNERS = ["Sluice", "Custom"] as const;
export type ActionOwner = (typeof ACTION_OWNERS)[number];

export const OUTCOMES = ["Succeeded", "Failed"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const LOG_STREAMS = ["stdout", "stderr", "system"] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

/** Reasons the server gives in a CancelMessage. Agents must accept any other string as well. */
export const CANCEL_REASONS = [
  "Abandoned",
  "TimedOut",
  "AgentLost",
  "Duplicate",
  "NotRunning",
  "QueueTimeout",
] as const;
export type KnownCancelReason = (typeof CANCEL_REASONS)[number];

/** The pool of an action without a `region`. */
export const DEFAULT_POOL = "default";
/**
 * The installation's first account: its pipelines' jobs keep the subjects of installations from
 * before accounts (3.3), so existing agents keep working.
 */
export const DEFAULT_ACCOUNT = "default";
/** The prefix when SLUICE_NATS_PREFIX is not set. */
export const DEFAULT_PREFIX = "sluice";
