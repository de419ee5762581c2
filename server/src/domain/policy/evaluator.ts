/**
 * The evaluator: a principal's effective policies compiled once into a structure that answers
 * `evaluate(action, resource)` with a few map lookups and regex tests.
 *
 * IAM's rules, in this order:
 * 1. an explicit Deny whose Action and Resource match decides: DENY (it beats every Allow);
 * 2. otherwise an Allow whose Action and Resource match decides: ALLOW;
 * 3. otherwise IMPLICIT_DENY (nothing allowed it).
 * The deciding statement is the first matching one in the order the policies were given, then
 * statement order, so the answer is reproducible (simulatePolicy shows it).
 *
 * Compilation: statements are indexed by every catalogued action their Action / NotAction covers
 * (the catalogue is finite, so wildcards and NotAction are resolved once), and each statement's
 * Resource / NotResource list becomes one predicate (resource-pattern.ts). An action outside the
 * catalogue still gets IAM's answer: its statements are found by matching the patterns, once, and
 * kept.
 */
import { ACTION_NAMES } from "./actions";
import { actionPatternRegExp, actionsMatching, canonicalAction } from "./action-pattern";
import type { Effect, NamedPolicy } from "./document";
import { compileResourcePatterns, type ResourcePredicate } from "./resource-pattern";

export type Decision = "ALLOW" | "DENY" | "IMPLICIT_DENY";

/** Which statement decided: the policy's name, where it is attached, its Sid and its index. */
export interface StatementRef {
  policy: string;
  /** `user/alice`, `group/ops`, `role/deployer`; null when the caller did not say. */
  attachedTo: string | null;
  sid: string | null;
  index: number;
}

export interface Evaluation {
  decision: Decision;
  statement: StatementRef | null;
}

/** A policy with where it comes from (effectivePolicies in principal.ts fills `attachedTo`). */
export interface SourcedPolicy extends NamedPolicy {
  attachedTo?: string;
}

interface CompiledStatement {
  ref: StatementRef;
  effect: Effect;
  actions: { patterns: readonly string[]; negated: boolean };
  matches: ResourcePredicate;
  /** Resource is `*`: the statement covers every resource. */
  everything: boolean;
}

interface ActionEntry {
  deny: CompiledStatement[];
  allow: CompiledStatement[];
}

const IMPLICIT_DENY: Evaluation = Object.freeze({ decision: "IMPLICIT_DENY", statement: null });

export class CompiledPolicies {
  private readonly byAction = new Map<string, ActionEntry>();

  constructor(private readonly statements: readonly CompiledStatement[]) {
    for (const name of ACTION_NAMES) this.byAction.set(name, { deny: [], allow: [] });
    for (const statement of statements) {
      const { patterns, negated } = statement.actions;
      const covered = new Set(patterns.flatMap(actionsMatching));
      for (const name of ACTION_NAMES) {
        if (covered.has(name) !== negated) push(this.byAction.get(name)!, statement);
      }
    }
  }

  evaluate(action: string, resource: string): Evaluation {
    const entry = this.entryOf(action);
    for (const statement of entry.deny) {
      if (statement.matches(resource)) return { decision: "DENY", statement: statement.ref };
    }
    for (const statement of entry.allow) {
      if (statement.matches(resource)) return { decision: "ALLOW", statement: statement.ref };
    }
    return IMPLICIT_DENY;
  }

  isAllowed(action: string, resource: string): boolean {
    return this.evaluate(action, resource).decision === "ALLOW";
  }

  /** For lists: the resources (SRNs) of `resources` that `action` is allowed on, in their order. */
  allowedResources<R extends string>(action: string, resources: Iterable<R>): R[] {
    const allowed: R[] = [];
    for (const resource of resources) if (this.isAllowed(action, resource)) allowed.push(resource);
    return allowed;
  }

  /** For lists of things: the items whose SRN (`srnOf`) `action` is allowed on. */
  allowedItems<T>(action: string, items: Iterable<T>, srnOf: (item: T) => string): T[] {
    const allowed: T[] = [];
    for (const item of items) if (this.isAllowed(action, srnOf(item))) allowed.push(item);
    return allowed;
  }

  /**
   * Whether `action` may be allowed on some resource: some Allow covers the action and no Deny of
   * it covers every resource. A list operation is refused outright when this is false (and its
   * items are filtered with allowedItems when it is true).
   */
  mayAllowAny(action: string): boolean {
    const entry = this.entryOf(action);
    return entry.allow.length > 0 && !entry.deny.some((s) => s.everything);
  }

  private entryOf(action: string): ActionEntry {
    const known = this.byAction.get(action) ?? this.byAction.get(canonicalAction(action) ?? "");
    if (known) return known;
    // Not a catalogued action (simulatePolicy takes any string): matched directly, not kept, so
    // arbitrary names cannot grow the map.
    const entry: ActionEntry = { deny: [], allow: [] };
    for (const statement of this.statements) {
      const { patterns, negated } = statement.actions;
      if (patterns.some((p) => actionPatternRegExp(p).test(action)) !== negated) push(entry, statement);
    }
    return entry;
  }
}

function push(entry: ActionEntry, statement: CompiledStatement): void {
  (statement.effect === "Deny" ? entry.deny : entry.allow).push(statement);
}

/** Compiles the policies in the order given (that order picks the deciding statement). */
export function compilePolicies(policies: readonly SourcedPolicy[]): CompiledPolicies {
  const statements: CompiledStatement[] = [];
  for (const policy of policies) {
    policy.document.Statement.forEach((statement, index) => {
      const resourcePatterns = statement.Resource ?? statement.NotResource ?? [];
      const anyResource = compileResourcePatterns(resourcePatterns);
      statements.push({
        ref: {
          policy: policy.name,
          attachedTo: policy.attachedTo ?? null,
          sid: statement.Sid ?? null,
          index,
        },
        effect: statement.Effect,
        actions: statement.Action
          ? { patterns: statement.Action, negated: false }
          : { patterns: statement.NotAction ?? [], negated: true },
        matches: statement.Resource ? anyResource : (resource) => !anyResource(resource),
        everything: statement.Resource?.includes("*") ?? false,
      });
    });
  }
  return new CompiledPolicies(statements);
}
