/**
 * The polling agent (`pollIntervalMs`, a benchmark and compatibility option): it asks for work
 * with a request the server answers at once (consumer info), holds no pull open between polls,
 * and takes a job published while it sleeps at its next poll. Bounds are generous on purpose.
 */
import { jobConsumerConfig } from "@sluice/protocol";
import type { Subscription } from "@nats-io/transport-node";
import { parseConfig as parseConfigWith } from "../src/config";
import type { RunningAgent } from "../src/runtime/start";
import { startTestAgent, stopAgent } from "./support/agents";
import { FakeServer, waitFor } from "./support/fake-server";
import { fnProvider, type } from "./support/test-providers";

/** These tests run on a NATS without authentication: SLUICE_NATS_INSECURE=1 unless they say otherwise. */
const parseConfig = (...[argv, env, defaults]: Parameters<typeof parseConfigWith>) =>
  parseConfigWith(argv, { SLUICE_NATS_INSECURE: "1", ...env }, defaults);

const INTERVAL_MS = 2000;
const provider = fnProvider(type("Polled"), () => Promise.resolve({ outcome: "Succeeded", summary: "ok" }));

let server: FakeServer;
let agent: RunningAgent | undefined;
let polls: Subscription | undefined;

beforeAll(async () => {
  server = await FakeServer.start();
});
afterEach(async () => {
  polls?.unsubscribe();
  await stopAgent(agent);
  agent = polls = undefined;
});
afterAll(async () => {
  await server?.stop();
});

const durable = () => jobConsumerConfig(server.prefix, "default", provider.id).durable_name;

/** Times of the agent's polls: its consumer info requests, seen on the JetStream API subject. */
async function watchPolls(): Promise<number[]> {
  const times: number[] = [];
  polls = server.nc.subscribe(`$JS.API.CONSUMER.INFO.${server.names.streams.jobs}.${durable()}`, {
    callback: () => void times.push(Date.now()),
  });
  await server.nc.flush();
  return times;
}

/**
 * Pull requests waiting on the agent's consumer (a long-polling agent keeps one there). Read with
 * a consumer list, not an info request, which watchPolls would count as a poll.
 */
async function waitingPulls(): Promise<number> {
  for await (const info of server.jsm.consumers.list(server.names.streams.jobs)) {
    if (info.name === durable()) return info.num_waiting;
  }
  throw new Error(`no consumer ${durable()}`);
}

describe("a polling agent", () => {
  it("reads --poll-interval-ms and SLUICE_AGENT_POLL_INTERVAL_MS; long-polls when neither is set", () => {
    const base = ["--token", "sat_test_token_0123456789"];
    const flag = parseConfig([...base, "--poll-interval-ms", "1000"], {}, [provider.id]);
    const env = parseConfig(base, { SLUICE_AGENT_POLL_INTERVAL_MS: "250" }, [provider.id]);
    const unset = parseConfig(base, {}, [provider.id]);
    const bad = parseConfig([...base, "--poll-interval-ms", "5"], {}, [provider.id]);
    expect(flag.ok === true && flag.config.pollIntervalMs).toBe(1000);
    expect(env.ok === true && env.config.pollIntervalMs).toBe(250);
    expect(unset.ok === true && unset.config.pollIntervalMs).toBeUndefined();
    expect(bad.ok === false && bad.errors).toEqual([
      expect.stringContaining("--poll-interval-ms (SLUICE_AGENT_POLL_INTERVAL_MS): must be at least 10"),
    ]);
  });

  it("holds no pull open between polls, and takes a job published while it sleeps at its next poll", async () => {
    const times = await watchPolls();
    agent = await startTestAgent(server, [provider], { pollIntervalMs: INTERVAL_MS });
    await waitFor("the first poll", () => times.length >= 1);
    // Idle between polls: nothing waits on the server for it (a long-polling agent would have one).
    expect(await waitingPulls()).toBe(0);

    const publishedAt = Date.now();
    const pollsBefore = times.length;
    const job = await server.publishJob(server.job(provider.id));
    await waitFor("the job's complete", () => server.completeOf(job), INTERVAL_MS + 10_000);
    const accept = server.accepts.find((a) => a.jobId === job.jobId)!;
    // It was taken at a later poll, not by a pull that was waiting when the job arrived: no pull
    // waited before it was published (above), and a polling agent pulls only after a poll saw work.
    expect(times.length).toBeGreaterThan(pollsBefore);
    expect(Date.parse(accept.startedAt)).toBeGreaterThanOrEqual(publishedAt);
    expect(server.completeOf(job)).toMatchObject({ outcome: "Succeeded", summary: "ok" });
    await waitFor("the next idle poll", () => times.length >= pollsBefore + 2, INTERVAL_MS + 10_000);
    expect(await waitingPulls()).toBe(0);
  });

  it("without pollIntervalMs keeps a long-poll pull waiting (the default)", async () => {
    agent = await startTestAgent(server, [provider]);
    let waiting = 0;
    for (let i = 0; i < 100 && waiting === 0; i++) {
      waiting = await waitingPulls();
      if (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(waiting).toBeGreaterThanOrEqual(1);
  });
});
