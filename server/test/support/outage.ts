/**
 * The outage scenario of outage-nats.test.ts and outage-postgres.test.ts: a built server process,
 * two real agent processes and 20 executions of Source → Build → Deploy pipelines (Shell commands
 * that take a moment, write log lines and pass an artifact on) in flight when NATS or PostgreSQL
 * goes away. What must hold afterwards: every execution succeeded, every action ran once (one
 * attempt, and its command ran once: each run appends a line to a file of the test), and every
 * log line the commands wrote is in the action's log.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { killAgents, startAgentProcess, type AgentProcess } from "./agent-process";
import { gitRepository } from "./documents";
import { installation, killStarted, startSluiceProcess, type SluiceProcess } from "./cluster";
import { dataOf } from "./server";
import { eventually } from "./wait";

export const EXECUTIONS = 20;
const LINES = 30;

export interface OutageWorld {
  /** The first server copy: the one the test asks. */
  server: SluiceProcess;
  /** Every server copy (one unless `servers` said more), sharing the database and the NATS prefix. */
  servers: SluiceProcess[];
  natsPrefix: string;
  agents: AgentProcess[];
  scratch: string;
  /** Lines appended by the commands: `<pipeline> build|deploy start|run`. */
  runs(): string[];
}

export async function startWorld(options: {
  databaseUrl: string;
  natsUrl: string;
  env?: Record<string, string>;
  /** How many server copies to run (default 1). */
  servers?: number;
  /** The NATS prefix (default: a new one). */
  natsPrefix?: string;
}): Promise<OutageWorld> {
  const inst = installation(options.databaseUrl);
  if (options.natsPrefix) inst.natsPrefix = options.natsPrefix;
  const servers: SluiceProcess[] = [];
  for (let i = 0; i < (options.servers ?? 1); i++)
    servers.push(await startSluiceProcess(inst, { NATS_URL: options.natsUrl, ...options.env }));
  const server = servers[0]!;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-outage-"));
  gitRepository(path.join(scratch, "repo"), "the application\n");
  fs.writeFileSync(path.join(scratch, "runs"), "");
  // The agents run as root, and so each job as an unprivileged uid of its own: the jobs read the
  // repository and append to `runs`, and nothing else of the scratch directory.
  fs.chmodSync(scratch, 0o755);
  fs.chmodSync(path.join(scratch, "runs"), 0o666);

  for (const copy of servers)
    await eventually(async () => (await copy.status("/readyz")) === 200, 30_000, "the server to be ready");
  const { createAgentToken } = dataOf(
    await server.gql(`mutation { createAgentToken(description: "outage") { token } }`),
  );
  const agents = ["alpha", "beta"].map((name) =>
    startAgentProcess({
      natsUrl: options.natsUrl,
      serverUrl: server.base,
      prefix: inst.natsPrefix,
      token: createAgentToken.token,
      name,
      concurrency: EXECUTIONS,
    }),
  );
  await eventually(
    async () => {
      const { agents } = dataOf(await server.gql(`{ agents { name status } }`));
      return agents.filter((a: any) => a.status !== "offline").length === 2;
    },
    30_000,
    "both agents online",
  );
  return {
    server,
    servers,
    natsPrefix: inst.natsPrefix,
    agents,
    scratch,
    runs: () => fs.readFileSync(path.join(scratch, "runs"), "utf8").split("\n").filter(Boolean),
  };
}

export async function stopWorld(world: OutageWorld | undefined): Promise<void> {
  if (world && process.env.OUTAGE_DUMP) {
    // <OUTAGE_DUMP>.<test file>.<process>: the outage tests of one run do not overwrite each other.
    const dump = `${process.env.OUTAGE_DUMP}.${path.basename(expect.getState().testPath ?? "test", ".test.ts")}`;
    for (const agent of world.agents) fs.writeFileSync(`${dump}.${agent.name}`, agent.output());
    world.servers.forEach((server, i) =>
      fs.writeFileSync(`${dump}.server${i ? i + 1 : ""}`, server.output()),
    );
  }
  await killAgents();
  await killStarted();
  if (world) fs.rmSync(world.scratch, { recursive: true, force: true });
}

const shell = (category: string, name: string, extra: Record<string, unknown>) => ({
  name,
  actionTypeId: { category, owner: "Sluice", provider: "Shell", version: "1" },
  ...extra,
});

/** Numbered lines, a few at a time, so that the command takes a moment and logs while it runs. */
const numbered = (what: string, pause: string) =>
  `for i in $(seq 1 ${LINES}); do echo "${what} line $i"; if [ $((i % 10)) = 0 ]; then sleep ${pause}; fi; done`;

function pipeline(name: string, runs: string, repo: string) {
  return {
    name,
    stages: [
      {
        name: "Source",
        actions: [
          {
            name: "Checkout",
            actionTypeId: { category: "Source", owner: "Sluice", provider: "Git", version: "1" },
            configuration: { Repository: `file://${repo}`, Branch: "main" },
            outputArtifacts: [{ name: "Src" }],
          },
        ],
      },
      {
        name: "Build",
        actions: [
          shell("Build", "Compile", {
            inputArtifacts: [{ name: "Src" }],
            outputArtifacts: [{ name: "Bin" }],
            configuration: {
              Commands: [
                `echo "${name} build start" >> ${runs}`,
                numbered(`${name} build`, "0.2"),
                `mkdir -p out && (cat app.txt; echo "built for ${name}") > out/bin.txt`,
                `echo "${name} build run" >> ${runs}`,
              ].join("\n"),
              OutputFiles: "out/**",
            },
          }),
        ],
      },
      {
        name: "Deploy",
        actions: [
          shell("Deploy", "Ship", {
            inputArtifacts: [{ name: "Bin" }],
            configuration: {
              Commands: [
                `echo "${name} deploy start" >> ${runs}`,
                `cat "$SLUICE_INPUT_Bin/out/bin.txt"`,
                numbered(`${name} deploy`, "0.7"),
                `echo "${name} deploy run" >> ${runs}`,
              ].join("\n"),
            },
          }),
        ],
      },
    ],
  };
}

/** Creates the pipelines (each creation starts its first execution); returns their names. */
export async function startExecutions(world: OutageWorld, tag: string): Promise<string[]> {
  const repo = path.join(world.scratch, "repo");
  const runs = path.join(world.scratch, "runs");
  const names = Array.from({ length: EXECUTIONS }, (_, i) => `${tag}-${i + 1}`);
  for (const name of names) {
    dataOf(
      await world.server.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
        input: pipeline(name, runs, repo),
      }),
    );
  }
  return names;
}

/** Resolves once `count` commands of `tag` with `marker` (e.g. "deploy start") have run. */
export async function commandsSeen(world: OutageWorld, tag: string, marker: string, count: number) {
  await eventually(
    async () =>
      world.runs().filter((line) => line.startsWith(`${tag}-`) && line.endsWith(` ${marker}`)).length >=
      count,
    60_000,
    `${count} × "${marker}" of ${tag}`,
  );
}

const EXECUTION = /* GraphQL */ `
  query ($n: String!) {
    pipeline(name: $n) {
      executions(first: 5) {
        nodes {
          id
          status
          statusSummary
          startTime
          endTime
          stages {
            name
            actions {
              id
              name
              status
              summary
              attempts {
                id
                attempt
                status
                failureCause
                summary
              }
            }
          }
        }
      }
    }
  }
`;

/**
 * Waits for every execution to end, then checks all of it; returns a list of what went wrong. With
 * OUTAGE_TIMINGS set, prints when the executions started and ended relative to the outage's end
 * (the figures of docs/failure-model.md; nothing is asserted on them).
 */
export async function finishedCleanly(
  world: OutageWorld,
  names: string[],
  timeoutMs: number,
  outageEndedAt = Date.now(),
) {
  const executions = await eventually(
    async () => {
      const all = [];
      for (const n of names) {
        const { pipeline: p } = dataOf(await world.server.gql(EXECUTION, { n }));
        const e = p.executions.nodes;
        // What is still going is what a timeout reports: the execution and each action's attempts.
        if (e.length !== 1) throw new Error(`${n} has ${e.length} executions`);
        if (e[0].status === "InProgress")
          throw new Error(
            `${n} is InProgress: ` +
              e[0].stages
                .flatMap((s: any) =>
                  s.actions.map(
                    (a: any) =>
                      `${s.name}/${a.name} ${a.id ?? ""} ${a.status} [${a.attempts
                        .map((t: any) => `#${t.attempt} ${t.status}: ${t.summary ?? ""}`)
                        .join(" | ")}]`,
                  ),
                )
                .join("; "),
          );
        all.push({ name: n, execution: e[0] });
      }
      return all;
    },
    timeoutMs,
    "every execution to end",
  );
  if (process.env.OUTAGE_TIMINGS) {
    const ends = executions.map(({ execution }) => Date.parse(execution.endTime) - outageEndedAt);
    const starts = executions.map(({ execution }) => Date.parse(execution.startTime) - outageEndedAt);
    console.log(
      `${names[0]}: executions started ${Math.min(...starts)}..${Math.max(...starts)} ms and ended ` +
        `${Math.min(...ends)}..${Math.max(...ends)} ms after the outage ended`,
    );
  }
  const problems: string[] = [];
  const runs = world.runs();
  for (const { name, execution } of executions) {
    if (execution.status !== "Succeeded")
      problems.push(`${name}: ${execution.status} (${execution.statusSummary})`);
    for (const stage of execution.stages) {
      for (const action of stage.actions) {
        const attempts = action.attempts.map(
          (a: any) => `#${a.attempt} ${a.status}${a.failureCause ? ` ${a.failureCause}` : ""}: ${a.summary}`,
        );
        if (action.status !== "Succeeded" || action.attempts.length !== 1)
          problems.push(`${name} ${action.name}: ${action.status}, attempts ${attempts.join(" | ")}`);
      }
    }
    for (const what of ["build", "deploy"]) {
      const ran = runs.filter((line) => line === `${name} ${what} run`).length;
      const started = runs.filter((line) => line === `${name} ${what} start`).length;
      if (ran !== 1 || started !== 1) problems.push(`${name} ${what}: started ${started}×, ran ${ran}×`);
    }
    for (const [stageName, actionName, what] of [
      ["Build", "Compile", "build"],
      ["Deploy", "Ship", "deploy"],
    ] as const) {
      const action = execution.stages
        .find((s: any) => s.name === stageName)
        .actions.find((a: any) => a.name === actionName);
      if (!action?.id) {
        problems.push(`${name} ${actionName}: never ran`);
        continue;
      }
      const log = await logOf(world.server, action.id);
      const expected = Array.from({ length: LINES }, (_, i) => `${name} ${what} line ${i + 1}`);
      const got = log.filter((line) => line.startsWith(`${name} ${what} line `));
      if (JSON.stringify(got) !== JSON.stringify(expected))
        problems.push(
          `${name} ${actionName}: its log has ${got.length} of the ${LINES} lines, or not in order`,
        );
      if (what === "deploy" && !log.includes(`built for ${name}`))
        problems.push(`${name} Ship: the artifact's content is not in its log`);
    }
  }
  return problems;
}

async function logOf(server: SluiceProcess, actionExecutionId: string): Promise<string[]> {
  const lines: string[] = [];
  let after = 0;
  for (;;) {
    // UNAVAILABLE (NATS away, or a NATS cluster still electing a leader) is asked again, as a
    // client would; any other error fails the test.
    const { actionLog } = dataOf(
      await eventually(
        async () => {
          const response = await server.gql(
            `query ($id: ID!, $after: Int) { actionLog(actionExecutionId: $id, after: $after, first: 1000) {
               nodes { text } hasNextPage endCursor } }`,
            { id: actionExecutionId, after },
          );
          const unavailable =
            !!response.errors?.length && response.errors.every((e) => e.extensions?.code === "UNAVAILABLE");
          return unavailable ? false : response;
        },
        60_000,
        "the action's log",
      ),
    );
    lines.push(...actionLog.nodes.map((l: any) => l.text.replace(/\n$/, "")));
    if (!actionLog.hasNextPage) return lines;
    after = actionLog.endCursor;
  }
}
