import fc from "fast-check";
import { isTransientNatsError } from "../src";

function named(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  const error = new Error(message);
  error.name = name;
  return Object.assign(error, extra);
}

describe("isTransientNatsError", () => {
  it("knows the nats.js errors that pass with time, by name", () => {
    for (const name of ["TimeoutError", "ConnectionError", "NoRespondersError", "DrainingConnectionError"])
      expect(isTransientNatsError(named(name, "whatever"))).toBe(true);
  });

  it("knows JetStream's 503, in code or status, and in a wrapped message", () => {
    expect(isTransientNatsError(named("JetStreamApiError", "x", { code: 503 }))).toBe(true);
    expect(isTransientNatsError(named("JetStreamApiError", "x", { status: "503" }))).toBe(true);
    expect(isTransientNatsError(new Error("request failed: 503 no responders"))).toBe(true);
    expect(isTransientNatsError(new Error("JetStream system temporarily unavailable"))).toBe(true);
  });

  it("looks through causes", () => {
    const wrapped = new Error("set-up failed", { cause: named("TimeoutError", "t") });
    expect(isTransientNatsError(wrapped)).toBe(true);
  });

  it("never calls a permission error transient, whatever its message", () => {
    expect(isTransientNatsError(named("PermissionViolationError", "timeout on publish"))).toBe(false);
    expect(isTransientNatsError(named("AuthorizationError", "503"))).toBe(false);
  });

  it("is not fooled by ids that contain 503 (an installation conflict naming two UUIDs)", () => {
    // The installation-claim CI failure: a UUID "…-ce87fdf50343" made a permanent error look like
    // JetStream's 503, and the server retried for 30 s instead of stopping.
    const conflict = named(
      "InstallationConflictError",
      'The NATS prefix "p" belongs to another Sluice installation (id 3c53551f-7bef-4a94-a7f9-ce87fdf50343)',
    );
    expect(isTransientNatsError(conflict)).toBe(false);
    fc.assert(
      fc.property(fc.uuid(), fc.uuid(), (a, b) => {
        const error = new Error(`belongs to another installation (id ${a}); this database is ${b}`);
        return !isTransientNatsError(error);
      }),
    );
  });
});
