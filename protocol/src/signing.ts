/**
 * Signed server messages (PROTOCOL.md 11.5): every message an agent obeys — jobs, cancels on both
 * paths — carries an ed25519 signature by one of the server's message keys, over the subject, the
 * `Nats-Msg-Id`, a validity window and the payload. NATS does not check a request's reply subject
 * against permissions, so whoever may talk to JetStream can have it write into a stream an agent
 * reads; the signature, not the subject, says that the server sent it.
 *
 * ed25519 from node:crypto (OpenSSL), not @nats-io/nkeys: on the 2-core test machine a signature
 * takes about 70 µs and a check 190 µs, where nkeys' pure JavaScript ed25519 (tweetnacl) takes
 * 14 ms to sign, which would cap a server copy at ~70 jobs a second; and the protocol package
 * needs no dependency for it (sealed.ts uses node:crypto too).
 */
import crypto from "node:crypto";

/** The headers of a signed message. */
export const SIGNATURE_HEADERS = Object.freeze({
  /** The signer's public key: raw 32-byte ed25519 key, base64url (43 characters). */
  key: "Sluice-Key",
  /** The signature of the canonical bytes: 64 bytes, base64url (86 characters). */
  signature: "Sluice-Sig",
  /** When it was signed, milliseconds since the epoch (decimal). */
  issuedAt: "Sluice-Sig-Issued",
  /** When it stops being valid, milliseconds since the epoch (decimal). */
  expiresAt: "Sluice-Sig-Expires",
});

export const MSG_ID_HEADER = "Nats-Msg-Id";

/** The first line of the canonical bytes: names the scheme and its version. */
export const SIGNATURE_SCHEME = "sluice-sig-v1";

const DAY_MS = 86_400_000;

/**
 * How long a signature is valid, by the subject it is signed for. A job may wait in `<p>_JOBS` for
 * its `max_age` (7 days) and a cancel in `<p>_CANCEL` for 8 days, so their signatures last as long
 * as the stream keeps them; a cancel on an agent's core subject arrives at once or never.
 */
export const SIGNATURE_LIFETIMES_MS = Object.freeze({
  job: 7 * DAY_MS,
  cancel: 8 * DAY_MS,
  agentCancel: 10 * 60_000,
});
export type SignedKind = keyof typeof SIGNATURE_LIFETIMES_MS;

/** How far a verifier's clock may be from the server's: applied to both ends of the window. */
export const SIGNATURE_CLOCK_SKEW_MS = 5 * 60_000;

/** How many public keys a verifier accepts at once (the current one and those being rotated out). */
export const MAX_SERVER_KEYS = 8;

const KEY = /^[A-Za-z0-9_-]{43}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{86}$/;
const MILLISECONDS = /^(0|[1-9][0-9]{0,15})$/;

export function isSigningPublicKey(value: string): boolean {
  return KEY.test(value);
}

export interface SignedFields {
  subject: string;
  /** The message's `Nats-Msg-Id`. */
  msgId: string;
  issuedAt: number;
  expiresAt: number;
  body: Uint8Array;
}

function checkLine(what: string, value: string): string {
  if (value.length === 0 || /[\r\n]/.test(value))
    throw new TypeError(`${what} must be one non-empty line to be signed`);
  return value;
}

function checkTime(what: string, value: number): string {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new TypeError(`${what} must be milliseconds since the epoch`);
  return String(value);
}

/**
 * The bytes that are signed: five lines, each ended by `\n`, then the payload as it is.
 *
 *     sluice-sig-v1\n<subject>\n<Nats-Msg-Id>\n<issuedAt>\n<expiresAt>\n<payload bytes>
 *
 * Subject and id are UTF-8 (a NATS subject holds no white space; an id no line break), times are
 * decimal milliseconds since the epoch. Only the payload may hold `\n`, and it comes last, so two
 * different messages never have the same bytes.
 */
export function canonicalBytes(fields: SignedFields): Uint8Array {
  const head = [
    SIGNATURE_SCHEME,
    checkLine("The subject", fields.subject),
    checkLine("The message id", fields.msgId),
    checkTime("issuedAt", fields.issuedAt),
    checkTime("expiresAt", fields.expiresAt),
  ]
    .map((line) => `${line}\n`)
    .join("");
  if (fields.expiresAt <= fields.issuedAt) throw new TypeError("expiresAt must be after issuedAt");
  return Buffer.concat([Buffer.from(head, "utf8"), fields.body]);
}

export interface MessageSigningKey {
  /** Raw 32-byte ed25519 public key, base64url: what agents trust. */
  publicKey: string;
  privateKey: crypto.KeyObject;
}

/** A fresh key and its private half as 32 bytes base64url (`seed`), for storing encrypted. */
export function generateMessageSigningKey(): MessageSigningKey & { seed: string } {
  const { privateKey } = crypto.generateKeyPairSync("ed25519");
  const jwk = privateKey.export({ format: "jwk" });
  if (typeof jwk.d !== "string" || typeof jwk.x !== "string") throw new Error("not an ed25519 key");
  return { publicKey: jwk.x, privateKey, seed: jwk.d };
}

/** The key of a stored seed (32 bytes, base64url). */
export function messageSigningKeyFromSeed(seed: string): MessageSigningKey {
  if (!KEY.test(seed)) throw new Error("an ed25519 seed is 32 bytes in base64url");
  // PKCS#8 of an Ed25519 private key: a fixed 16-byte prefix, then the 32-byte seed (RFC 8410).
  const der = Buffer.concat([
    Buffer.from("302e020100300506032b657004220420", "hex"),
    Buffer.from(seed, "base64url"),
  ]);
  const privateKey = crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  const jwk = crypto.createPublicKey(privateKey).export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new Error("not an ed25519 key");
  return { publicKey: jwk.x, privateKey };
}

/** The signature headers of a message, valid `lifetimeMs` from `now`. */
export function signMessage(
  key: MessageSigningKey,
  message: { subject: string; msgId: string; body: Uint8Array },
  lifetimeMs: number,
  now = Date.now(),
): Record<string, string> {
  const issuedAt = Math.floor(now);
  const expiresAt = issuedAt + Math.max(1, Math.floor(lifetimeMs));
  const signature = crypto.sign(null, canonicalBytes({ ...message, issuedAt, expiresAt }), key.privateKey);
  return {
    [SIGNATURE_HEADERS.key]: key.publicKey,
    [SIGNATURE_HEADERS.signature]: signature.toString("base64url"),
    [SIGNATURE_HEADERS.issuedAt]: String(issuedAt),
    [SIGNATURE_HEADERS.expiresAt]: String(expiresAt),
  };
}

/** Why a message's signature is refused. */
export type SignatureRefusal =
  | "Unsigned" // no signature headers, or no Nats-Msg-Id
  | "Malformed" // headers present but not of the right form
  | "UnknownKey" // signed by a key this agent does not trust
  | "BadSignature" // another subject, id, window or payload than the one signed
  | "Expired" // past its expiresAt
  | "NotYetValid"; // issued in the future (beyond the clock skew)

export type SignatureCheck =
  | { ok: true; key: string; msgId: string; expiresAt: number }
  | { ok: false; reason: SignatureRefusal; message: string };

/** Headers as nats.js gives them: `get` answers "" for a missing header. */
export interface HeaderReader {
  get(name: string): string;
}

const publicKeys = new Map<string, crypto.KeyObject>();
function publicKeyObject(raw: string): crypto.KeyObject {
  let key = publicKeys.get(raw);
  if (!key) {
    key = crypto.createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: raw }, format: "jwk" });
    if (publicKeys.size > 64) publicKeys.clear();
    publicKeys.set(raw, key);
  }
  return key;
}

function refused(reason: SignatureRefusal, message: string): SignatureCheck {
  return { ok: false, reason, message };
}

/**
 * Checks a received message: signed by one of `trusted`, for this very subject, id and payload,
 * and within its window (± SIGNATURE_CLOCK_SKEW_MS). `subject` is the subject the message arrived
 * on (or was stored under), never one the message names.
 */
export function verifyMessage(
  headers: HeaderReader | undefined,
  subject: string,
  body: Uint8Array,
  trusted: ReadonlySet<string>,
  now = Date.now(),
): SignatureCheck {
  const get = (name: string) => headers?.get(name) ?? "";
  const key = get(SIGNATURE_HEADERS.key);
  const signature = get(SIGNATURE_HEADERS.signature);
  const issued = get(SIGNATURE_HEADERS.issuedAt);
  const expires = get(SIGNATURE_HEADERS.expiresAt);
  const msgId = get(MSG_ID_HEADER);
  if (!key || !signature || !issued || !expires) return refused("Unsigned", "the message is not signed");
  if (!msgId) return refused("Unsigned", "the message has no Nats-Msg-Id");
  if (
    !KEY.test(key) ||
    !SIGNATURE.test(signature) ||
    !MILLISECONDS.test(issued) ||
    !MILLISECONDS.test(expires)
  )
    return refused("Malformed", "the signature headers are malformed");
  if (!trusted.has(key)) return refused("UnknownKey", `signed by a key this agent does not trust (${key})`);
  const issuedAt = Number(issued);
  const expiresAt = Number(expires);
  let bytes: Uint8Array;
  try {
    bytes = canonicalBytes({ subject, msgId, issuedAt, expiresAt, body });
  } catch (error) {
    return refused("Malformed", (error as Error).message);
  }
  let valid: boolean;
  try {
    valid = crypto.verify(null, bytes, publicKeyObject(key), Buffer.from(signature, "base64url"));
  } catch {
    valid = false;
  }
  if (!valid) return refused("BadSignature", "the signature does not match this subject, id and payload");
  if (now > expiresAt + SIGNATURE_CLOCK_SKEW_MS)
    return refused("Expired", `the signature expired at ${new Date(expiresAt).toISOString()}`);
  if (issuedAt > now + SIGNATURE_CLOCK_SKEW_MS)
    return refused(
      "NotYetValid",
      `the signature was issued in the future (${new Date(issuedAt).toISOString()})`,
    );
  return { ok: true, key, msgId, expiresAt };
}

/** Whether a `Nats-Msg-Id` is `base` or `base:<suffix>` (a cancel's `cancel:<job>:<attempt>:<agent>`). */
export function msgIdNames(msgId: string, base: string): boolean {
  return msgId === base || msgId.startsWith(`${base}:`);
}
