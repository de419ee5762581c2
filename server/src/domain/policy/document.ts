/**
 * A policy document in IAM's JSON shape, normalized: `Statement` is always a list and every
 * Action / NotAction / Resource / NotResource is a list. validate.ts turns untrusted JSON into one.
 * `Condition` is not supported yet: a statement carrying one is refused rather than read as if
 * it had none (which would grant more than its author meant).
 */

export const POLICY_VERSION = "2012-10-17";

export type Effect = "Allow" | "Deny";

export interface PolicyStatement {
  Sid?: string;
  Effect: Effect;
  /** Exactly one of Action and NotAction. */
  Action?: string[];
  NotAction?: string[];
  /** Exactly one of Resource and NotResource. */
  Resource?: string[];
  NotResource?: string[];
}

export interface PolicyDocument {
  Version: typeof POLICY_VERSION;
  Statement: PolicyStatement[];
}

/** A policy as it is attached: its name (`ReadOnly`, `web-approvers`) and its document. */
export interface NamedPolicy {
  name: string;
  document: PolicyDocument;
}

/** IAM's limit for a managed policy is 6,144 characters; Sluice allows some more. */
export const MAX_POLICY_DOCUMENT_CHARS = 10_240;
