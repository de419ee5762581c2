/**
 * What the agent retries (runtime/retry.ts): the errors NATS really gives when it is away, and the
 * artifact failures they cause, pass with time; refusals and the job's own failures do not.
 */
import { jetstream, JetStreamApiError } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ArtifactError } from "../src/providers/types";
import { isRetryable, retrying } from "../src/runtime/retry";
import { NATS_URL } from "./support/fake-server";

let nc: NatsConnection;
beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
});
afterAll(async () => {
  await nc.close();
});

/** The error `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (error: unknown) => error,
  );
}

it("classes the errors NATS gives when nothing answers as retryable", async () => {
  // Nobody listens: no responders.
  expect(isRetryable(await failure(nc.request(`retry-test.${Date.now()}`, "x", { timeout: 500 })))).toBe(
    true,
  );
  // Someone listens and never answers: a timeout.
  const subject = `retry-test.silent.${Date.now()}`;
  const silent = nc.subscribe(subject);
  expect(isRetryable(await failure(nc.request(subject, "x", { timeout: 100 })))).toBe(true);
  silent.unsubscribe();
  // A JetStream publish no stream takes (as while the stream's server restarts).
  const js = jetstream(nc, { timeout: 500 });
  expect(isRetryable(await failure(js.publish(`retry-test.nostream.${Date.now()}`, "x")))).toBe(true);
});

it("an artifact failure is retryable only when a NATS error that passes with time caused it", async () => {
  const natsError = await failure(nc.request(`retry-test.${Date.now()}`, "x", { timeout: 500 }));
  expect(
    isRetryable(
      new ArtifactError("SystemUnavailable", "the object store is unavailable", { cause: natsError }),
    ),
  ).toBe(true);
  expect(isRetryable(new ArtifactError("SystemUnavailable", "no space left on the agent: ENOSPC"))).toBe(
    false,
  );
  expect(
    isRetryable(new ArtifactError("RevisionUnavailable", "artifact a differs from the recorded one")),
  ).toBe(false);
  expect(isRetryable(new ArtifactError("PermissionError", "the object store refused access"))).toBe(false);
  expect(isRetryable(new Error("ENOENT: no such file or directory"))).toBe(false);
});

it("retrying: again until it succeeds; a failure that does not pass, or a stop, ends it", async () => {
  const timeout = Object.assign(new Error("timeout"), { name: "TimeoutError" });
  let calls = 0;
  const controller = new AbortController();
  await expect(
    retrying(
      async () => {
        if (++calls < 3) throw timeout;
        return "stored";
      },
      { signal: controller.signal, initialMs: 1, maxMs: 2 },
    ),
  ).resolves.toBe("stored");
  expect(calls).toBe(3);

  const refused = new ArtifactError("PermissionError", "refused");
  calls = 0;
  await expect(
    retrying(
      async () => {
        calls++;
        throw refused;
      },
      { signal: controller.signal, initialMs: 1 },
    ),
  ).rejects.toBe(refused);
  expect(calls).toBe(1);

  calls = 0;
  await expect(
    retrying(
      async () => {
        if (++calls === 2) controller.abort();
        throw timeout;
      },
      { signal: controller.signal, initialMs: 1, maxMs: 2 },
    ),
  ).rejects.toBe(timeout);
  expect(calls).toBe(2);
});

it("classes the answers of a NATS cluster electing a leader as retryable, a refused placement not", () => {
  // What the JetStream API answers while a stream's or the meta group's leader is being elected
  // (nats-server's JSClusterNotAvailErr), as nats.js 3 builds it from the API's reply.
  expect(
    isRetryable(
      new JetStreamApiError({
        code: 503,
        err_code: 10008,
        description: "JetStream system temporarily unavailable",
      }),
    ),
  ).toBe(true);
  // Three replicas asked of fewer servers: waiting does not help.
  expect(
    isRetryable(
      new JetStreamApiError({ code: 500, err_code: 10005, description: "no suitable peers for placement" }),
    ),
  ).toBe(false);
  expect(
    isRetryable(
      new JetStreamApiError({
        code: 500,
        err_code: 10074,
        description: "replicas > 1 not supported in non-clustered mode",
      }),
    ),
  ).toBe(false);
});
