/**
 * Which server keys the agent trusts after a rotation (PROTOCOL.md 11.5, "Rotation"): the keys of
 * its last credentials, each retiring one until the time the credentials give, and not after —
 * even before the next renewal. Pinned keys (--server-key) are not touched by what the server says.
 */
import { generateMessageSigningKey, signMessage } from "@sluice/protocol";
import { ServerKeys } from "../src/runtime/server-keys";

const subject = "sluice.jobs.default.Build.Sluice.Shell.1";
const body = new TextEncoder().encode("{}");

function signedBy(key: ReturnType<typeof generateMessageSigningKey>, now: number) {
  const signed = new Map(
    Object.entries({
      ...signMessage(key, { subject, msgId: "job:j:1", body }, 3_600_000, now),
      "Nats-Msg-Id": "job:j:1",
    }),
  );
  return { get: (name: string) => signed.get(name) ?? "" };
}

it("accepts a retiring key until its time and refuses it after, the new key throughout", () => {
  const [current, old] = [generateMessageSigningKey(), generateMessageSigningKey()];
  const now = Date.now();
  const retiresAt = now + 60_000;
  const keys = new ServerKeys();
  keys.learnFromCredentials([current.publicKey, old.publicKey], {
    [old.publicKey]: new Date(retiresAt).toISOString(),
  });
  expect(keys.source).toBe("credentials");
  expect(keys.check(signedBy(old, now), subject, body, now).ok).toBe(true);
  expect(keys.check(signedBy(old, now), subject, body, retiresAt - 1).ok).toBe(true);
  expect(keys.check(signedBy(old, now), subject, body, retiresAt)).toMatchObject({
    ok: false,
    reason: "UnknownKey",
  });
  expect(keys.check(signedBy(current, now), subject, body, retiresAt + 1).ok).toBe(true);
  expect([...keys.trustedAt(retiresAt)]).toEqual([current.publicKey]);

  // The next credentials no longer list it: refused whatever the time.
  keys.learnFromCredentials([current.publicKey]);
  expect(keys.check(signedBy(old, now), subject, body, now)).toMatchObject({
    ok: false,
    reason: "UnknownKey",
  });
  // A retirement of a key the credentials do not list changes nothing.
  keys.learnFromCredentials([current.publicKey], { [old.publicKey]: new Date(retiresAt).toISOString() });
  expect([...keys.trustedAt(now)]).toEqual([current.publicKey]);
});

it("keeps trusting pinned keys only, whatever the credentials retire", () => {
  const pinned = generateMessageSigningKey();
  const keys = new ServerKeys([pinned.publicKey]);
  const now = Date.now();
  keys.learnFromCredentials([pinned.publicKey], { [pinned.publicKey]: new Date(now - 1000).toISOString() });
  expect(keys.source).toBe("pinned");
  expect(keys.check(signedBy(pinned, now), subject, body, now).ok).toBe(true);
});
