/** Signed server messages (signing.ts, PROTOCOL.md 11.5): canonical bytes, signing, every refusal. */
import fc from "fast-check";
import {
  MSG_ID_HEADER,
  SIGNATURE_CLOCK_SKEW_MS,
  SIGNATURE_HEADERS,
  SIGNATURE_LIFETIMES_MS,
  canonicalBytes,
  generateMessageSigningKey,
  messageSigningKeyFromSeed,
  msgIdNames,
  natsCredentialsReplySchema,
  registerReplySchema,
  signMessage,
  streamConfigs,
  verifyMessage,
  type HeaderReader,
} from "../src";

const key = generateMessageSigningKey();
const other = generateMessageSigningKey();
const trusted = new Set([key.publicKey]);
const NOW = Date.parse("2026-12-07T03:00:00.000Z");
const HOUR = 3_600_000;
const SUBJECT = "sluice.jobs.default.Build.Sluice.Shell.1";
const MSG_ID = "job:7d1f0c52-0b7e-4a39-9f3e-2c6b1d8e4a10:1";
const BODY = Buffer.from('{"jobId":"7d1f0c52-0b7e-4a39-9f3e-2c6b1d8e4a10","attempt":1}');

function headers(values: Record<string, string>): HeaderReader {
  return { get: (name) => values[name] ?? "" };
}

function signed(
  message: { subject?: string; msgId?: string; body?: Uint8Array } = {},
  options: { signer?: typeof key; lifetimeMs?: number; now?: number } = {},
) {
  const subject = message.subject ?? SUBJECT;
  const msgId = message.msgId ?? MSG_ID;
  const body = message.body ?? BODY;
  const h = signMessage(
    options.signer ?? key,
    { subject, msgId, body },
    options.lifetimeMs ?? HOUR,
    options.now ?? NOW,
  );
  return { ...h, [MSG_ID_HEADER]: msgId };
}

describe("canonical bytes", () => {
  it("are five lines, then the payload as it is", () => {
    const bytes = canonicalBytes({
      subject: "a.b",
      msgId: "job:x:1",
      issuedAt: 10,
      expiresAt: 20,
      body: Buffer.from("{\n}"),
    });
    expect(Buffer.from(bytes).toString("utf8")).toBe("sluice-sig-v1\na.b\njob:x:1\n10\n20\n{\n}");
  });

  it("refuse a subject or id that is empty or spans lines, and a window that ends before it starts", () => {
    const base = { subject: "a.b", msgId: "m", issuedAt: 10, expiresAt: 20, body: BODY };
    expect(() => canonicalBytes({ ...base, subject: "" })).toThrow(/subject/);
    expect(() => canonicalBytes({ ...base, subject: "a.b\nc" })).toThrow(/subject/);
    expect(() => canonicalBytes({ ...base, msgId: "m\r" })).toThrow(/message id/);
    expect(() => canonicalBytes({ ...base, expiresAt: 10 })).toThrow(/after/);
    expect(() => canonicalBytes({ ...base, issuedAt: -1 })).toThrow(/issuedAt/);
    expect(() => canonicalBytes({ ...base, issuedAt: 1.5 })).toThrow(/issuedAt/);
  });

  it("differ whenever any field differs (property)", () => {
    const line = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !/[\r\n]/.test(s));
    const time = fc.integer({ min: 0, max: 2 ** 42 });
    const fields = fc
      .record({
        subject: line,
        msgId: line,
        issuedAt: time,
        length: fc.integer({ min: 1, max: 2 ** 30 }),
        body: fc.uint8Array({ maxLength: 40 }),
      })
      .map(({ length, ...f }) => ({ ...f, expiresAt: f.issuedAt + length }));
    fc.assert(
      fc.property(fields, fields, (a, b) => {
        const same =
          a.subject === b.subject &&
          a.msgId === b.msgId &&
          a.issuedAt === b.issuedAt &&
          a.expiresAt === b.expiresAt &&
          Buffer.from(a.body).equals(Buffer.from(b.body));
        return Buffer.from(canonicalBytes(a)).equals(Buffer.from(canonicalBytes(b))) === same;
      }),
    );
  });
});

describe("signing keys", () => {
  it("are raw ed25519 keys in base64url, and a stored seed gives the same key", () => {
    expect(key.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(key.seed).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const again = messageSigningKeyFromSeed(key.seed);
    expect(again.publicKey).toBe(key.publicKey);
    const h = signMessage(again, { subject: SUBJECT, msgId: MSG_ID, body: BODY }, HOUR, NOW);
    expect(verifyMessage(headers({ ...h, [MSG_ID_HEADER]: MSG_ID }), SUBJECT, BODY, trusted, NOW).ok).toBe(
      true,
    );
  });

  it("the header carries the signature, never the seed", () => {
    const h = signed();
    expect(JSON.stringify(h)).not.toContain(key.seed);
    expect(Object.keys(h).sort()).toEqual([...Object.values(SIGNATURE_HEADERS), MSG_ID_HEADER].sort());
  });
});

describe("verifyMessage", () => {
  it("accepts the message as signed, within its window", () => {
    const check = verifyMessage(headers(signed()), SUBJECT, BODY, trusted, NOW + 1000);
    expect(check).toEqual({ ok: true, key: key.publicKey, msgId: MSG_ID, expiresAt: NOW + HOUR });
  });

  it("refuses a tampered payload, another subject, another id, and another window", () => {
    const h = signed();
    const tampered = Buffer.from(BODY);
    tampered[10] = tampered[10]! ^ 1;
    expect(verifyMessage(headers(h), SUBJECT, tampered, trusted, NOW)).toMatchObject({
      ok: false,
      reason: "BadSignature",
    });
    expect(
      verifyMessage(headers(h), "sluice.jobs.other.Build.Sluice.Shell.1", BODY, trusted, NOW),
    ).toMatchObject({
      ok: false,
      reason: "BadSignature",
    });
    expect(
      verifyMessage(
        headers({ ...h, [MSG_ID_HEADER]: "job:7d1f0c52-0b7e-4a39-9f3e-2c6b1d8e4a10:2" }),
        SUBJECT,
        BODY,
        trusted,
        NOW,
      ),
    ).toMatchObject({ ok: false, reason: "BadSignature" });
    const later = String(NOW + 10 * HOUR);
    expect(
      verifyMessage(headers({ ...h, [SIGNATURE_HEADERS.expiresAt]: later }), SUBJECT, BODY, trusted, NOW),
    ).toMatchObject({
      ok: false,
      reason: "BadSignature",
    });
  });

  it("refuses an expired signature (beyond the clock skew) and one issued in the future", () => {
    const h = headers(signed());
    expect(verifyMessage(h, SUBJECT, BODY, trusted, NOW + HOUR + SIGNATURE_CLOCK_SKEW_MS).ok).toBe(true);
    expect(verifyMessage(h, SUBJECT, BODY, trusted, NOW + HOUR + SIGNATURE_CLOCK_SKEW_MS + 1)).toMatchObject({
      ok: false,
      reason: "Expired",
    });
    expect(verifyMessage(h, SUBJECT, BODY, trusted, NOW - SIGNATURE_CLOCK_SKEW_MS - 1)).toMatchObject({
      ok: false,
      reason: "NotYetValid",
    });
  });

  it("refuses an unknown key, even with a valid signature of its own", () => {
    expect(verifyMessage(headers(signed({}, { signer: other })), SUBJECT, BODY, trusted, NOW)).toMatchObject({
      ok: false,
      reason: "UnknownKey",
    });
    // Naming a trusted key over another key's signature is a bad signature.
    const h = { ...signed({}, { signer: other }), [SIGNATURE_HEADERS.key]: key.publicKey };
    expect(verifyMessage(headers(h), SUBJECT, BODY, trusted, NOW)).toMatchObject({
      ok: false,
      reason: "BadSignature",
    });
    // Several keys trusted (a rotation): either one is accepted.
    const both = new Set([key.publicKey, other.publicKey]);
    expect(verifyMessage(headers(signed({}, { signer: other })), SUBJECT, BODY, both, NOW).ok).toBe(true);
  });

  it("refuses a message without signature, without id, or with malformed headers", () => {
    expect(verifyMessage(undefined, SUBJECT, BODY, trusted, NOW)).toMatchObject({
      ok: false,
      reason: "Unsigned",
    });
    expect(verifyMessage(headers({ [MSG_ID_HEADER]: MSG_ID }), SUBJECT, BODY, trusted, NOW)).toMatchObject({
      ok: false,
      reason: "Unsigned",
    });
    const { [MSG_ID_HEADER]: _id, ...noId } = signed();
    expect(verifyMessage(headers(noId), SUBJECT, BODY, trusted, NOW)).toMatchObject({
      ok: false,
      reason: "Unsigned",
    });
    for (const [name, value] of [
      [SIGNATURE_HEADERS.signature, "AAAA"],
      [SIGNATURE_HEADERS.key, "not a key"],
      [SIGNATURE_HEADERS.issuedAt, "-5"],
      [SIGNATURE_HEADERS.expiresAt, "1e12"],
    ] as const) {
      expect(
        verifyMessage(headers({ ...signed(), [name]: value }), SUBJECT, BODY, trusted, NOW),
      ).toMatchObject({
        ok: false,
        reason: "Malformed",
      });
    }
  });

  it("accepts exactly the signed (subject, id, payload) and refuses every other (property)", () => {
    const subject = fc.stringMatching(/^[a-z]{1,6}(\.[a-z0-9]{1,6}){0,4}$/);
    const id = fc.stringMatching(/^[a-z]{1,4}:[0-9a-f]{1,8}:[1-9]$/);
    const body = fc.uint8Array({ maxLength: 64 });
    fc.assert(
      fc.property(subject, id, body, subject, id, body, (s1, i1, b1, s2, i2, b2) => {
        const h = headers({
          ...signMessage(key, { subject: s1, msgId: i1, body: b1 }, HOUR, NOW),
          [MSG_ID_HEADER]: i2,
        });
        const same = s1 === s2 && i1 === i2 && Buffer.from(b1).equals(Buffer.from(b2));
        const check = verifyMessage(h, s2, b2, trusted, NOW);
        return check.ok === same && (same || (!check.ok && check.reason === "BadSignature"));
      }),
      { numRuns: 200 },
    );
  });
});

describe("lifetimes and key lists", () => {
  it("last as long as the stream keeps the message", () => {
    const streams = streamConfigs("sluice");
    expect(SIGNATURE_LIFETIMES_MS.job).toBe(streams.jobs.max_age / 1e6);
    expect(SIGNATURE_LIFETIMES_MS.cancel).toBe(streams.cancel.max_age / 1e6);
  });

  it("msgIdNames matches the id and its suffixed forms only", () => {
    expect(msgIdNames("cancel:j:1", "cancel:j:1")).toBe(true);
    expect(msgIdNames("cancel:j:1:agent", "cancel:j:1")).toBe(true);
    expect(msgIdNames("cancel:j:10", "cancel:j:1")).toBe(false);
    expect(msgIdNames("job:j:1", "cancel:j:1")).toBe(false);
  });

  it("the credentials reply needs 1–8 valid keys; the registration reply may carry them", () => {
    const reply = { jwt: "x", agentId: "a", inboxPrefix: "_INBOX_a", expiresAt: "2026-12-07T04:00:00.000Z" };
    expect(natsCredentialsReplySchema.safeParse(reply).success).toBe(false);
    expect(natsCredentialsReplySchema.safeParse({ ...reply, serverKeys: [key.publicKey] }).success).toBe(
      true,
    );
    expect(natsCredentialsReplySchema.safeParse({ ...reply, serverKeys: ["nope"] }).success).toBe(false);
    expect(
      natsCredentialsReplySchema.safeParse({ ...reply, serverKeys: Array(9).fill(key.publicKey) }).success,
    ).toBe(false);
    const ok = { ok: true, protocolVersion: 3, agentId: "a", heartbeatIntervalSeconds: 5 };
    expect(registerReplySchema.safeParse(ok).success).toBe(true);
    expect(registerReplySchema.safeParse({ ...ok, serverKeys: [key.publicKey] }).success).toBe(true);
  });
});
