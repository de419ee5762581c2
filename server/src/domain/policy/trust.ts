/**
 * Roles' trust policies: who may assume a role (`assumeRole`), from the role's account or another
 * one. IAM's shape, restricted to what Sluice has:
 *
 *   { "Version": "2012-10-17",
 *     "Statement": [{ "Effect": "Allow", "Action": "sluice:AssumeRole",
 *                     "Principal": { "Sluice": ["srn:sluice:team-b:root", "srn:sluice:default:user/alice",
 *                                               "srn:sluice:team-b:group/deployers", "srn:sluice:ci:service-account/*"] } }] }
 *
 * A principal is an account's root (`srn:sluice:<account>:root`: any user or service account of
 * that account whose own policies allow sluice:AssumeRole on the role), or users, groups (their
 * members) or service accounts of one account; their names may hold IAM's wildcards (`*`, `?`),
 * the account may not. Sluice refuses `"Principal": "*"` (a role anyone could assume).
 *
 * decideAssumeRole follows IAM: a Deny in the trust policy refuses; otherwise an Allow must name
 * the caller (itself, one of its groups, or its account's root). Named in the role's own account,
 * the caller needs nothing more; otherwise (another account, or only its account's root named)
 * its own policies must also allow sluice:AssumeRole on the role's SRN.
 */
import { z } from "zod";
import type { ValidationIssue } from "../errors";
import { formatPath, quote, type PathSegment } from "../pipeline/paths";
import { describeValue } from "../pipeline/zod-issues";
import { POLICY_VERSION } from "./document";
import type { CompiledPolicies, Evaluation } from "./evaluator";
import { globSource } from "./glob";
import { ACCOUNT_PATTERN, SRN_PREFIX, parseSrn } from "./srn";

export interface TrustStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  /** SRNs: `srn:sluice:<account>:root`, or users, groups or service accounts (names may hold wildcards). */
  Principal: string[];
}

export interface TrustPolicyDocument {
  Version: typeof POLICY_VERSION;
  Statement: TrustStatement[];
}

const stringOrList = z.union([z.string(), z.array(z.string())]);
const trustStatementSchema = z.strictObject({
  Sid: z.string().optional(),
  Effect: z.enum(["Allow", "Deny"]),
  Action: stringOrList,
  Principal: z.union([z.literal("*"), z.strictObject({ Sluice: stringOrList })]),
});
const trustEnvelopeSchema = z.strictObject({
  Version: z.literal(POLICY_VERSION).optional(),
  Statement: z.array(z.unknown()).min(1),
});

const PRINCIPAL_PATTERN = /^srn:sluice:([^:]*):(user|group|service-account)\/([^/:]+)$/;

/** A sentence saying what is wrong with a trust policy principal, or null. */
export function trustPrincipalProblem(value: string): string | null {
  const root = /^srn:sluice:([^:]*):root$/.exec(value);
  if (root) return ACCOUNT_PATTERN.test(root[1]!) ? null : `${quote(value)} names no valid account.`;
  const named = PRINCIPAL_PATTERN.exec(value);
  if (named) {
    if (!ACCOUNT_PATTERN.test(named[1]!)) {
      return `${quote(value)} names no valid account (an account cannot hold wildcards: name each one).`;
    }
    return null;
  }
  return `A principal is "${SRN_PREFIX}<account>:root" or a user, group or service account ("${SRN_PREFIX}<account>:user/<name>", wildcards allowed in the name); got ${quote(value)}.`;
}

export function validateTrustPolicy(
  input: unknown,
): { ok: true; document: TrustPolicyDocument } | { ok: false; issues: ValidationIssue[] } {
  const envelope = trustEnvelopeSchema.safeParse(input);
  if (!envelope.success) {
    const message = `A trust policy is { "Version": "${POLICY_VERSION}", "Statement": [ ... ] } with at least one statement.`;
    return { ok: false, issues: [{ path: "", message }] };
  }
  const issues: ValidationIssue[] = [];
  const statements: TrustStatement[] = [];
  envelope.data.Statement.forEach((value, index) => {
    const at: PathSegment[] = ["Statement", index];
    const issue = (segments: PathSegment[], message: string) =>
      issues.push({ path: formatPath([...at, ...segments]), message });
    const parsed = trustStatementSchema.safeParse(value, { reportInput: true });
    if (!parsed.success) {
      for (const i of parsed.error.issues) {
        const segments = i.path.map((k) => (typeof k === "number" ? k : String(k)));
        const key = segments[0];
        if (i.code === "unrecognized_keys") {
          for (const k of i.keys)
            issue(
              [...segments, k],
              `Unknown key ${quote(k)}: a trust statement has Sid, Effect, Action and Principal.`,
            );
        } else if (key === "Principal") {
          issue(
            segments,
            `Principal must be { "Sluice": <principal or list of principals> }; got ${describeValue(i.input)}.`,
          );
        } else {
          issue(
            segments,
            `${formatPath(segments)} is missing or not valid${i.input === undefined ? "" : ` (${describeValue(i.input)})`}.`,
          );
        }
      }
      return;
    }
    const before = issues.length;
    const { Sid, Effect, Action, Principal } = parsed.data;
    const actions = typeof Action === "string" ? [Action] : Action;
    if (actions.length === 0 || actions.some((a) => a.toLowerCase() !== "sluice:assumerole")) {
      issue(["Action"], `A trust statement's Action is "sluice:AssumeRole"; got ${describeValue(Action)}.`);
    }
    if (Principal === "*") {
      issue(["Principal"], `"Principal": "*" would let anyone assume the role: name accounts or principals.`);
      return;
    }
    const principals = typeof Principal.Sluice === "string" ? [Principal.Sluice] : Principal.Sluice;
    if (principals.length === 0)
      issue(["Principal", "Sluice"], "Principal must name at least one principal.");
    principals.forEach((p, i) => {
      const problem = trustPrincipalProblem(p);
      if (problem)
        issue(
          typeof Principal.Sluice === "string" ? ["Principal", "Sluice"] : ["Principal", "Sluice", i],
          problem,
        );
    });
    if (issues.length === before) statements.push({ ...(Sid ? { Sid } : {}), Effect, Principal: principals });
  });
  return issues.length > 0
    ? { ok: false, issues }
    : { ok: true, document: { Version: POLICY_VERSION, Statement: statements } };
}

export interface AssumeRoleCaller {
  /** The caller's SRN: `srn:sluice:<account>:user/<name>` (or service-account/). */
  srn: string;
  /** The SRNs of its groups (a trust policy naming one of them names the caller). */
  groups?: readonly string[];
  /** The caller's own compiled policies (its identity's, or its current role session's). */
  policies: CompiledPolicies;
}

export interface AssumeRoleDecision {
  allowed: boolean;
  reason: string;
  /** The caller's own policies' answer, when it was needed. */
  identity: Evaluation | null;
}

export function decideAssumeRole(
  trust: TrustPolicyDocument,
  roleSrn: string,
  caller: AssumeRoleCaller,
): AssumeRoleDecision {
  const role = parseSrn(roleSrn);
  const self = parseSrn(caller.srn);
  if (!role || role.resource.type !== "role" || !self) {
    return {
      allowed: false,
      reason: `${roleSrn} is not a role or ${caller.srn} is not a principal.`,
      identity: null,
    };
  }
  const root = `${SRN_PREFIX}${self.account}:root`;
  const identities = [caller.srn, ...(caller.groups ?? [])];
  /** Whether the statement names the caller itself (or one of its groups), not only its account. */
  const namesCaller = (s: TrustStatement) =>
    s.Principal.some((p) => p !== root && identities.some((id) => principalMatches(p, id)));
  const names = (s: TrustStatement) => s.Principal.includes(root) || namesCaller(s);
  const deny = trust.Statement.findIndex((s) => s.Effect === "Deny" && names(s));
  if (deny >= 0) {
    return {
      allowed: false,
      reason: `Statement ${deny} of the role's trust policy denies ${caller.srn}.`,
      identity: null,
    };
  }
  const allows = trust.Statement.filter((s) => s.Effect === "Allow" && names(s));
  if (allows.length === 0) {
    return {
      allowed: false,
      reason: `The role's trust policy names neither ${caller.srn} nor its account.`,
      identity: null,
    };
  }
  if (self.account === role.account && allows.some(namesCaller)) {
    return {
      allowed: true,
      reason: `The role's trust policy names ${caller.srn} in the role's own account.`,
      identity: null,
    };
  }
  const identity = caller.policies.evaluate("sluice:AssumeRole", roleSrn);
  return identity.decision === "ALLOW"
    ? {
        allowed: true,
        reason:
          "The role's trust policy names the caller's account and the caller's policies allow sluice:AssumeRole on the role.",
        identity,
      }
    : {
        allowed: false,
        reason: `The role's trust policy names the caller's account, but the caller's own policies do not allow sluice:AssumeRole on ${roleSrn}.`,
        identity,
      };
}

const patterns = new Map<string, RegExp>();

/** A trust principal (wildcards in its name) against a concrete SRN. */
function principalMatches(pattern: string, srn: string): boolean {
  if (pattern === srn) return true;
  if (!pattern.includes("*") && !pattern.includes("?")) return false;
  let compiled = patterns.get(pattern);
  if (!compiled) {
    // `*` and `?` within the name only: they never cross into another kind or account.
    const colon = pattern.lastIndexOf(":");
    const slash = pattern.indexOf("/", colon);
    compiled = new RegExp(
      `^${globSource(pattern.slice(0, slash + 1))}${globSource(pattern.slice(slash + 1), "[^/:]*", "[^/:]")}$`,
    );
    if (patterns.size > 1000) patterns.clear();
    patterns.set(pattern, compiled);
  }
  return compiled.test(srn);
}
