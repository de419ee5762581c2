/**
 * The compiled evaluator against the reference evaluator (__tests__/reference.ts) on random
 * policies and requests drawn from a small world, so that patterns often hit and often just miss.
 */
import fc from "fast-check";
import { ACTION_NAMES } from "./actions";
import { compilePolicies } from "./evaluator";
import { validatePolicy } from "./validate";
import type { NamedPolicy } from "./document";
import { globMatches, referenceEvaluate } from "./__tests__/reference";

const ACCOUNTS = ["a1", "a2"];
const PIPELINES = ["web", "we", "webshop", "api", "w.b"];
const STAGES = ["Prod", "Beta", "Production"];
const ACTIONS_IN_STAGES = ["Approve", "Go"];

const resourcePath = fc.oneof(
  fc.constantFrom(...PIPELINES).map((p) => `pipeline/${p}`),
  fc
    .tuple(fc.constantFrom(...PIPELINES), fc.constantFrom(...STAGES))
    .map(([p, s]) => `pipeline/${p}/stage/${s}`),
  fc
    .tuple(fc.constantFrom(...PIPELINES), fc.constantFrom(...STAGES), fc.constantFrom(...ACTIONS_IN_STAGES))
    .map(([p, s, a]) => `pipeline/${p}/stage/${s}/action/${a}`),
  fc.constantFrom("audit", "agent-token", "webhook/web", "user/alice", "agent/default/b1"),
);

const resource = fc.tuple(fc.constantFrom(...ACCOUNTS), resourcePath).map(([a, p]) => `srn:sluice:${a}:${p}`);

/** A string with IAM wildcards put in: a cut with `*`, a `?` for one character, a span made `*`. */
const wildcarded = (base: string) =>
  fc
    .tuple(fc.nat({ max: base.length }), fc.nat({ max: base.length }), fc.integer({ min: 0, max: 4 }))
    .map(([i, j, how]) => {
      const [lo, hi] = [Math.min(i, j), Math.max(i, j)];
      switch (how) {
        case 0:
          return base;
        case 1:
          return `${base.slice(0, lo)}*`;
        case 2:
          return lo < base.length ? `${base.slice(0, lo)}?${base.slice(lo + 1)}` : base;
        case 3:
          return `${base.slice(0, lo)}*${base.slice(hi)}`;
        default:
          return `*${base.slice(hi)}`;
      }
    });

/** Patterns that sit on the edges: one character short or long, a stage's prefix, another account. */
const EDGE_RESOURCE_PATTERNS = [
  "*",
  "srn:sluice:a1:pipeline/we?",
  "srn:sluice:*:pipeline/web*",
  "srn:sluice:a1:pipeline/web/*",
  "srn:sluice:a?:pipeline/*/stage/Prod",
  "srn:sluice:*:pipeline/*/stage/Prod*",
  "srn:sluice:a2:pipeline/w?b/stage/*/action/Approve",
];

const resourcePattern = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...EDGE_RESOURCE_PATTERNS) },
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.constantFrom("a1", "a2", "*", "a?", "a*"), resourcePath.chain(wildcarded))
      .map(([a, p]) => `srn:sluice:${a}:${p === "" ? "*" : p}`),
  },
);

const actionPattern = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "*",
      "sluice:*",
      "sluice:Get*",
      "sluice:*Stage*",
      "sluice:List*",
      "sluice:GetPipelin?",
      "sluice:GetPipeline*",
      "sluice:?etLogs",
      "sluice:*Execution",
    ),
  },
  {
    weight: 6,
    arbitrary: fc
      .constantFrom(...ACTION_NAMES)
      .chain((name) => wildcarded(name.slice("sluice:".length)))
      .map((name) => `sluice:${name === "" ? "*" : name}`)
      // keep only patterns that match something (validation refuses the others)
      .filter((p) => ACTION_NAMES.some((a) => globMatches(p.toLowerCase(), a.toLowerCase()))),
  },
  { weight: 1, arbitrary: fc.constantFrom(...ACTION_NAMES).map((a) => a.toLowerCase()) },
);

const list = <T>(arb: fc.Arbitrary<T>) => fc.array(arb, { minLength: 1, maxLength: 3 });

const statement = fc.record({
  Sid: fc.option(fc.constantFrom("A", "B", "C"), { nil: undefined }),
  Effect: fc.constantFrom("Allow", "Deny", "Allow"),
  actions: fc.tuple(fc.boolean(), list(actionPattern)),
  resources: fc.tuple(fc.boolean(), list(resourcePattern)),
});

const policies: fc.Arbitrary<NamedPolicy[]> = fc
  .array(fc.array(statement, { minLength: 1, maxLength: 4 }), { minLength: 0, maxLength: 5 })
  .map((docs) =>
    docs.map((statements, p) => {
      const seen = new Set<string>();
      const Statement = statements.map(({ Sid, Effect, actions: [notA, a], resources: [notR, r] }) => {
        const unique = Sid !== undefined && !seen.has(Sid) ? (seen.add(Sid), Sid) : undefined;
        return {
          Sid: unique,
          Effect,
          [notA ? "NotAction" : "Action"]: a,
          [notR ? "NotResource" : "Resource"]: r,
        };
      });
      const result = validatePolicy({ Version: "2012-10-17", Statement: Statement.map(dropUndefined) });
      if (!result.ok) throw new Error(`generated an invalid policy: ${JSON.stringify(result.issues)}`);
      return { name: `p${p}`, document: result.document };
    }),
  );

function dropUndefined(o: Record<string, unknown>) {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

const requestAction = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...ACTION_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom(...ACTION_NAMES).map((a) => a.toUpperCase()) },
  { weight: 1, arbitrary: fc.constantFrom("sluice:Frobnicate", "other:GetPipeline") },
);

it("evaluate gives the reference evaluator's decision and deciding statement", () => {
  fc.assert(
    fc.property(
      policies,
      fc.array(fc.tuple(requestAction, resource), { minLength: 1, maxLength: 20 }),
      (ps, requests) => {
        const compiled = compilePolicies(ps);
        for (const [action, r] of requests) {
          expect(compiled.evaluate(action, r)).toEqual(referenceEvaluate(ps, action, r));
        }
      },
    ),
    { numRuns: 500 },
  );
});

it("allowedResources keeps exactly what the reference allows", () => {
  fc.assert(
    fc.property(policies, requestAction, fc.array(resource, { maxLength: 15 }), (ps, action, resources) => {
      const expected = resources.filter((r) => referenceEvaluate(ps, action, r).decision === "ALLOW");
      expect(compilePolicies(ps).allowedResources(action, resources)).toEqual(expected);
    }),
    { numRuns: 300 },
  );
});

it("the wildcard matcher of the reference is IAM's", () => {
  expect(globMatches("a*c", "abbc")).toBe(true);
  expect(globMatches("a*c", "ab/c")).toBe(true);
  expect(globMatches("a?c", "ac")).toBe(false);
  expect(globMatches("*", "")).toBe(true);
  expect(globMatches("a", "A")).toBe(false);
});
