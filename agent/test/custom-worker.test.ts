/** The standalone example worker (examples/custom-worker.ts) against the fake server. */
import { runWordCountWorker, WORD_COUNT } from "../examples/custom-worker";
import { FakeServer, NATS_URL, waitFor } from "./support/fake-server";

let server: FakeServer;
beforeAll(async () => {
  server = await FakeServer.start();
});
afterAll(async () => {
  await server?.stop();
});

describe("the example WordCount worker", () => {
  it("registers, takes a job, logs, and completes it with its counts", async () => {
    const stop = new AbortController();
    const worker = runWordCountWorker({
      natsUrl: NATS_URL,
      token: "sat_example_token",
      prefix: server.prefix,
      name: "wordcount-1",
      signal: stop.signal,
      log: () => undefined,
    });
    await waitFor("the registration", () => server.registrations.find((r) => r.name === "wordcount-1"));
    const job = await server.publishJob(
      server.job(WORD_COUNT, { configuration: { Text: "the quick brown fox\njumps over\nthe lazy dog" } }),
    );
    const complete = await waitFor("the complete", () => server.completeOf(job));
    expect(complete).toMatchObject({
      outcome: "Succeeded",
      outputVariables: { Words: "9", Lines: "3", Characters: "43" },
      lastLogSequence: 2,
    });
    expect(server.accepts.find((a) => a.jobId === job.jobId)?.agent.name).toBe("wordcount-1");
    expect(server.heartbeats.some((h) => h.jobId === job.jobId)).toBe(true);
    expect(server.logText(job, "stdout")).toBe("9 words, 3 lines, 43 characters\n");
    expect(await server.queuedJobs()).toBe(0);
    expect(server.invalid).toEqual([]);
    stop.abort();
    await worker;
  });

  it("stops with the server's message when registration is refused", async () => {
    server.registerDefault = { code: "Unauthenticated", error: "Unknown token." };
    await expect(
      runWordCountWorker({
        natsUrl: NATS_URL,
        token: "sat_example_token",
        prefix: server.prefix,
        log: () => undefined,
      }),
    ).rejects.toThrow("registration refused (Unauthenticated): Unknown token.");
    server.registerDefault = "ok";
  });
});
