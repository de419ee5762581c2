/**
 * After a NATS reconnect the agent registers again and re-reads the cancel subject of its running
 * jobs (PROTOCOL.md 6.3, 12.6): a cancel published while it was away still stops the job.
 */
import { Agent } from "../src/agent";
import { createArtifactStore } from "../src/artifacts";
import { createLogger, silentLogger } from "../src/logger";
import { formatActionTypeId } from "../src/providers/types";
import { agentConfig } from "./support/agents";
import { FakeServer, waitFor } from "./support/fake-server";
import { sleepProvider, type, type SleepRecord } from "./support/test-providers";

let server: FakeServer;
beforeAll(async () => {
  server = await FakeServer.start();
});
afterAll(async () => {
  await server?.stop();
});

it("registers again after a reconnect and reads the cancel subject of running jobs", async () => {
  const records: SleepRecord[] = [];
  const provider = sleepProvider(type("Reconnected"), records);
  const agent = new Agent(agentConfig(server, { providers: [provider.id] }), {
    logger: process.env.AGENT_TEST_LOGS ? createLogger("debug") : silentLogger(),
    providers: new Map([[formatActionTypeId(provider.id), provider]]),
    artifactStore: (access) => createArtifactStore(access),
  });
  await agent.start();
  try {
    // A long heartbeat interval: only the reconnect can make the agent read the cancel in time.
    const job = await server.publishJob(
      server.job(provider.id, {
        configuration: { Seconds: "30" },
        heartbeatIntervalSeconds: 60,
        leaseSeconds: 120,
      }),
    );
    await waitFor("the sleep to start", () => records.find((r) => r.jobId === job.jobId));
    await waitFor("the first job heartbeat", () => server.heartbeats.find((h) => h.jobId === job.jobId));
    const before = server.registrations.length;
    // The cancel goes only to the durable subject, as if the core message was lost in the outage.
    await server.cancel(job, "Abandoned", { durable: true });
    await agent.nc.reconnect();
    await waitFor("a new registration", () => server.registrations.length > before, 10_000);
    const complete = await waitFor("the complete", () => server.completeOf(job), 10_000);
    expect(complete.summary).toBe("Cancelled: Abandoned");
    expect(server.registrations.at(-1)!.name).toBe("test-agent");
  } finally {
    agent.stop({ force: true });
    await agent.done;
  }
});
