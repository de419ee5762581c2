import { MAX_MESSAGE_BYTES, ProtocolError, decode, encode, formatIssuePath, type MessageKind } from "../src";
import { valid } from "./fixtures";

const bytes = (value: unknown) =>
  new TextEncoder().encode(typeof value === "string" ? value : JSON.stringify(value));

function decodeError(kind: MessageKind, payload: Uint8Array, subject?: string): ProtocolError {
  const result = decode(kind, payload, subject);
  if (result.ok) throw new Error("expected the message to be refused");
  return result.error;
}

describe("codec round trip", () => {
  it.each(Object.keys(valid) as MessageKind[])("%s: decode(encode(m)) is m", (kind) => {
    const payload = encode(kind, valid[kind]);
    expect(payload).toBeInstanceOf(Uint8Array);
    const result = decode(kind, payload);
    expect(result).toEqual({ ok: true, message: valid[kind] });
  });

  it("encodes UTF-8 JSON that any language can read", () => {
    const payload = encode("logChunk", { ...valid.logChunk, text: "größe ✓\n" });
    expect(JSON.parse(Buffer.from(payload).toString("utf8")).text).toBe("größe ✓\n");
  });

  it("fills in defaults on encode, so receivers see them", () => {
    const payload = encode("complete", {
      jobId: "j1",
      attempt: 1,
      leaseToken: "kq3vX9d2Lh7mR4tB8wZ1nF6yJ0cP5sAe",
      agentId: "a1",
      outcome: "Failed",
      summary: "exit 1",
      finishedAt: "2025-01-31T09:15:00.000Z",
    });
    expect(JSON.parse(Buffer.from(payload).toString("utf8"))).toMatchObject({
      failureType: "JobFailed",
      outputVariables: {},
      outputArtifacts: [],
    });
  });

  it("drops unknown fields when it decodes", () => {
    const result = decode("cancel", bytes({ ...valid.cancel, extra: true }));
    expect(result).toEqual({ ok: true, message: valid.cancel });
  });
});

describe("encode refuses invalid messages", () => {
  it("throws a ProtocolError with the paths and the subject", () => {
    const bad = { ...valid.heartbeat, attempt: 0, at: "now" };
    let error: unknown;
    try {
      encode("heartbeat", bad, "sluice.results.heartbeat");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProtocolError);
    const protocolError = error as ProtocolError;
    expect(protocolError.reason).toBe("InvalidMessage");
    expect(protocolError.kind).toBe("heartbeat");
    expect(protocolError.subject).toBe("sluice.results.heartbeat");
    expect(protocolError.issues.map((i) => formatIssuePath(i.path))).toEqual(["attempt", "at"]);
    expect(protocolError.message).toMatch(
      /^Invalid heartbeat message on sluice\.results\.heartbeat: attempt: .*; at: must be an ISO 8601 time/,
    );
  });

  it("refuses a message larger than its kind allows", () => {
    const configuration = Object.fromEntries(
      Array.from({ length: 50 }, (_, i) => [`K${i}`, "x".repeat(22_000)]),
    );
    expect(() => encode("job", { ...valid.job, configuration })).toThrow(
      /job message may have at most 1048576/,
    );
  });
});

describe("decode returns a ProtocolError, never throws", () => {
  it("for a payload that is not JSON", () => {
    const error = decodeError("heartbeat", bytes("{not json"), "sluice.results.heartbeat");
    expect(error.reason).toBe("InvalidJson");
    expect(error.message).toMatch(
      /^Unreadable heartbeat message on sluice\.results\.heartbeat: \(message\): The payload is not UTF-8 JSON/,
    );
  });

  it("for bytes that are not UTF-8", () => {
    expect(decodeError("heartbeat", Uint8Array.from([0x7b, 0xff, 0x7d])).reason).toBe("InvalidJson");
  });

  it("for a message that breaks the schema, with zod's issues and their paths", () => {
    const payload = bytes({
      ...valid.job,
      inputArtifacts: [{ ...valid.job.inputArtifacts[0]!, sha256: "abc" }],
    });
    const error = decodeError("job", payload, "sluice.jobs.default.Build.Sluice.Shell.1");
    expect(error.reason).toBe("InvalidMessage");
    expect(error.subject).toBe("sluice.jobs.default.Build.Sluice.Shell.1");
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: ["inputArtifacts", 0, "sha256"],
        message: "must be 64 lowercase hex digits",
      }),
    ]);
    expect(error.message).toContain("inputArtifacts[0].sha256: must be 64 lowercase hex digits");
  });

  it("says 'is required' for a missing field", () => {
    const { jobId: _jobId, ...withoutJobId } = valid.cancel;
    expect(decodeError("cancel", bytes(withoutJobId)).message).toBe(
      "Invalid cancel message: jobId: is required",
    );
  });

  it("for JSON that is not an object", () => {
    expect(decodeError("job", bytes([1, 2])).reason).toBe("InvalidMessage");
    expect(decodeError("cancel", bytes("null")).reason).toBe("InvalidMessage");
  });

  it("checks the version first: a newer message is incompatible, not a pile of field errors", () => {
    const error = decodeError(
      "job",
      bytes({ protocolVersion: 4, somethingElse: true }),
      "sluice.jobs.x.Build.Sluice.Shell.1",
    );
    expect(error.reason).toBe("IncompatibleVersion");
    expect(error.version).toBe(4);
    expect(error.issues).toHaveLength(1);
    expect(error.message).toBe(
      "Incompatible job message on sluice.jobs.x.Build.Sluice.Shell.1: protocolVersion: Protocol version 4 is newer than this peer supports (version 3 only): upgrade this peer.",
    );
  });

  it.each<MessageKind>(["job", "accept", "registerRequest"])("checks the version of %s messages", (kind) => {
    const { protocolVersion: _v, ...unversioned } = valid[kind] as { protocolVersion: number };
    const error = decodeError(kind, bytes(unversioned));
    expect(error.reason).toBe("IncompatibleVersion");
    expect(error.version).toBeUndefined();
    expect(error.message).toMatch(/has no protocolVersion/);
  });

  it("does not gate a registration reply on its version: an old agent must read any refusal", () => {
    const refusal = { ok: false, protocolVersion: 7, code: "IncompatibleProtocol", error: "Upgrade." };
    expect(decode("registerReply", bytes(refusal))).toEqual({ ok: true, message: refusal });
  });

  it("for a payload larger than its kind allows, before parsing it", () => {
    const error = decodeError("cancel", new Uint8Array(MAX_MESSAGE_BYTES.cancel + 1));
    expect(error.reason).toBe("TooLarge");
    expect(error.message).toMatch(/cancel message may have at most 4096/);
  });
});
