import {
  compilePrincipal,
  managedPolicy,
  validatePolicy,
  ACTION_NAMES,
  type NamedPolicy,
  type PolicyHolder,
} from "@sluice/server/dist/src/domain/policy";
import { log, machineFacts } from "./env";
import { OthersCpu, waitForQuiet } from "./quiet";
import type { BenchResult } from "./results";
import { summarize } from "./stats";

/**
 * The policy evaluator (server/src/domain/policy): evaluate(action, resource) for one principal
 * in an installation of 1,000 policies, in the bench process, no I/O. The principal has 20
 * policies (12 of its own, 8 through two groups) of about 10 statements each; each check is timed
 * on its own with process.hrtime.bigint() (whose own cost, about 0.05 µs, is included).
 */
export interface PoliciesOptions {
  installationPolicies: number;
  attachedPolicies: number;
  statementsPerPolicy: number;
  checks: number;
}

const ACCOUNT = "acct1";
const STAGES = ["Source", "Build", "Test", "Beta", "Prod"];
const ACTIONS_IN_STAGE = ["Approve", "Deploy", "Smoke"];

/** mulberry32: the same installation and requests on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function runPolicies(options: PoliciesOptions): Promise<BenchResult> {
  const rand = random(10);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
  const pipelines = Array.from({ length: 300 }, (_, i) => `${pick(["web", "api", "db", "ml", "ops"])}-${i}`);
  const srn = (path: string) => `srn:sluice:${ACCOUNT}:${path}`;

  /** A statement as teams write them: a pipeline or a group of them, a stage, an approval, a fence. */
  const statement = (i: number) => {
    const pipeline = pick(pipelines);
    const shapes = [
      () => ({
        Action: ["sluice:Get*", "sluice:List*"],
        Resource: [srn(`pipeline/${pipeline}`), srn(`pipeline/${pipeline}/*`)],
      }),
      () => ({
        Action: ["sluice:StartPipelineExecution", "sluice:StopPipelineExecution"],
        Resource: srn(`pipeline/${pipeline.split("-")[0]}-*`),
      }),
      () => ({
        Action: "sluice:RetryStageExecution",
        Resource: srn(`pipeline/${pipeline}/stage/${pick(STAGES)}`),
      }),
      () => ({ Action: "sluice:PutApprovalResult", Resource: srn(`pipeline/*/stage/${pick(STAGES)}/*`) }),
      () => ({
        Action: ["sluice:*StageTransition", "sluice:RollbackStage"],
        Resource: srn(`pipeline/${pipeline}/stage/*`),
      }),
      () => ({ NotAction: ["sluice:Delete*", "sluice:Manage*"], Resource: srn(`pipeline/${pipeline}*`) }),
      () => ({ Action: "sluice:UpdatePipeline", NotResource: [srn(`pipeline/${pipeline}`)] }),
      () => ({
        Action: ["sluice:GetLogs"],
        Resource: [srn(`pipeline/${pipeline}/stage/Pro?/action/*`), srn(`pipeline/${pick(pipelines)}`)],
      }),
    ];
    const effect = rand() < 0.15 ? "Deny" : "Allow";
    return { Sid: `S${i}`, Effect: effect, ...pick(shapes)() };
  };

  const installation = new Map<string, NamedPolicy>();
  for (let p = 0; p < options.installationPolicies; p++) {
    const name = `team-policy-${p}`;
    const result = validatePolicy({
      Version: "2012-10-17",
      Statement: Array.from({ length: options.statementsPerPolicy }, (_, i) => statement(i)),
    });
    if (!result.ok) throw new Error(`generated an invalid policy: ${JSON.stringify(result.issues)}`);
    installation.set(name, { name, document: result.document });
  }
  const names = [...installation.keys()];
  const attached = Array.from({ length: options.attachedPolicies }, () => installation.get(pick(names))!);
  const own = Math.round(options.attachedPolicies * 0.6);
  const half = own + Math.floor((options.attachedPolicies - own) / 2);
  const holder: PolicyHolder = {
    kind: "user",
    name: "alice",
    policies: [managedPolicy("ReadOnly"), ...attached.slice(1, own)],
    groups: [
      { name: "release", policies: attached.slice(own, half) },
      { name: "web-team", policies: attached.slice(half) },
    ],
  };
  const statements = [...holder.policies, ...holder.groups.flatMap((g) => g.policies)].reduce(
    (n, p) => n + p.document.Statement.length,
    0,
  );

  const resourceOf = () => {
    const pipeline = pick(pipelines);
    const r = rand();
    if (r < 0.4) return srn(`pipeline/${pipeline}`);
    if (r < 0.7) return srn(`pipeline/${pipeline}/stage/${pick(STAGES)}`);
    return srn(`pipeline/${pipeline}/stage/${pick(STAGES)}/action/${pick(ACTIONS_IN_STAGE)}`);
  };
  const requests = Array.from({ length: 10_000 }, () => [pick(ACTION_NAMES), resourceOf()] as const);

  const quiet = await waitForQuiet(null);
  const cpu = new OthersCpu(null);
  log(`policies: compiling the principal (${statements} statements), then ${options.checks} checks`);

  const compileMs: number[] = [];
  for (let i = 0; i < 500; i++) {
    const started = process.hrtime.bigint();
    compilePrincipal(holder);
    compileMs.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const compiled = compilePrincipal(holder);

  const decisions = { ALLOW: 0, DENY: 0, IMPLICIT_DENY: 0 };
  for (let i = 0; i < 20_000; i++) compiled.evaluate(...requests[i % requests.length]!);
  const checkUs = new Array<number>(options.checks);
  for (let i = 0; i < options.checks; i++) {
    const [action, resource] = requests[i % requests.length]!;
    const started = process.hrtime.bigint();
    const { decision } = compiled.evaluate(action, resource);
    checkUs[i] = Number(process.hrtime.bigint() - started) / 1e3;
    decisions[decision]++;
  }

  const listResources = pipelines.map((p) => srn(`pipeline/${p}`));
  const listMs: number[] = [];
  for (let i = 0; i < 500; i++) {
    const started = process.hrtime.bigint();
    compiled.allowedResources("sluice:ListPipelines", listResources);
    listMs.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const used = cpu.read();

  const check = summarize(checkUs, 3);
  const sorted = [...checkUs].sort((a, b) => a - b);
  const p999 = Math.round(sorted[Math.ceil(0.999 * sorted.length) - 1]! * 1000) / 1000;
  const compile = summarize(compileMs, 3);
  const list = summarize(listMs, 3);
  const share = (n: number) => `${Math.round((n / options.checks) * 100)} %`;

  return {
    name: "policies",
    title: "Policy evaluation: one principal's checks in an installation of 1,000 policies",
    date: new Date().toISOString(),
    machine: machineFacts(),
    parameters: {
      installation: `${options.installationPolicies} policies of ${options.statementsPerPolicy} statements (8 shapes: read a pipeline, release a pipeline family, retry a stage, approve in a stage of every pipeline, transitions and rollback, NotAction, NotResource, logs; 15 % Deny)`,
      principal: `a user with ReadOnly and ${own - 1} policies of its own and ${options.attachedPolicies - own} through 2 groups: ${statements} statements`,
      requests: `${options.checks} evaluate() calls cycling through 10,000 random (catalogued action, pipeline / stage / action SRN) pairs over 300 pipelines, after 20,000 untimed ones; in the bench process`,
    },
    figures: [
      { label: "evaluate(action, resource), p50", value: check.p50, unit: "µs" },
      { label: "evaluate(action, resource), p99", value: check.p99, unit: "µs", goalMax: 200 },
      { label: "evaluate(action, resource), p99.9", value: p999, unit: "µs" },
      { label: "evaluate(action, resource), max", value: check.max, unit: "µs" },
      {
        label: `compile the principal's ${options.attachedPolicies} policies (${statements} statements), p50`,
        value: compile.p50,
        unit: "ms",
      },
      { label: "compile the principal, p99", value: compile.p99, unit: "ms" },
      {
        label: `allowedResources over ${listResources.length} pipelines (a list filtered), p50`,
        value: list.p50,
        unit: "ms",
      },
    ],
    notes: [
      `Decisions: ALLOW ${share(decisions.ALLOW)}, DENY ${share(decisions.DENY)}, IMPLICIT_DENY ${share(decisions.IMPLICIT_DENY)} of the timed checks.`,
      "Only the principal's own policies are compiled and evaluated: the installation's size only matters when the checker looks the attached policies up by name (a map here). Compiling indexes the statements by every catalogued action they cover and turns each statement's Resource list into one predicate (equality for names, a prefix test for one trailing `*`, one regex for the rest), so a check is a map lookup and the tests of the statements that name the action. V8 compiles each regex on its first test (tens of µs), so a principal's first checks cost more than the next ones: the checker compiles a principal once and keeps the result until one of its policies or attachments changes.",
      "Each check is timed on its own with process.hrtime.bigint(), whose own cost (about 0.05 µs) is included. The p99.9 and the maximum (and the compile p99) are the process being descheduled or collecting garbage: a check does no I/O and allocates one small object, and on a loaded machine (load average at the start, above) a 2-core box hands the CPU to other processes for whole time slices.",
      `Idle-machine check: ${quiet.quiet ? `quiet after ${quiet.waitedS} s` : `not quiet after ${quiet.waitedS} s`}; other processes used ${Math.round(used.othersShareOfCore * 100)} % of a core during the run.`,
    ],
    details: { evaluateUs: { ...check, p999 }, compileMs: compile, allowedResourcesMs: list, decisions },
  };
}
