/**
 * An agent whose token belongs to an account other than `default` (PROTOCOL.md 3.3), on a real
 * NATS with a fake server: the registration reply names the account, and the agent pulls that
 * account's jobs of its pool, never the default account's jobs of the pool of the same name.
 */
import type { RunningAgent } from "../src/runtime/start";
import { startTestAgent, stopAgent } from "./support/agents";
import { FakeServer, waitFor } from "./support/fake-server";
import { fnProvider, type } from "./support/test-providers";

let server: FakeServer;
let agent: RunningAgent | undefined;

beforeAll(async () => {
  server = await FakeServer.start();
  server.account = "team-b";
});
afterAll(async () => {
  await stopAgent(agent);
  await server?.stop();
});

it("runs its account's job and leaves the default account's job of its pool alone", async () => {
  const provider = fnProvider(type("Tenant"), async () => ({ outcome: "Succeeded", summary: "done" }));
  agent = await startTestAgent(server, [provider]);
  // The default account's job first: an agent pulling the default account's pool would take it first.
  const other = await server.publishJob(server.job(provider.id));
  const own = await server.publishJob(server.job(provider.id), "team-b");
  const complete = await waitFor("team-b's job to complete", () => server.completeOf(own));
  expect(complete).toMatchObject({ outcome: "Succeeded" });
  expect(server.accepts.map((a) => a.jobId)).not.toContain(other.jobId);
  expect(server.completeOf(other)).toBeFalsy();
  // Still queued in the jobs stream for a default-account agent (a work queue drops what is acked).
  const subject = server.names.subjects.job("default", provider.id);
  const waiting = await server.jsm.streams.getMessage(server.names.streams.jobs, { last_by_subj: subject });
  expect(waiting?.json<{ jobId: string }>().jobId).toBe(other.jobId);
});
