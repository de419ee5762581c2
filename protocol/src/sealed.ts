/**
 * Sealed boxes for a job's secret values (PROTOCOL.md 5.11): x25519 ECDH between a fresh
 * ephemeral key and the agent's registered public key, HKDF-SHA256 of the shared secret into an
 * AES-256-GCM key, all from node:crypto. Only the holder of the agent's private key (kept in the
 * agent's memory, never written) can open one.
 */
import crypto from "node:crypto";

/** The `info` of the HKDF: binds the key to this use and version. */
const INFO = Buffer.from("sluice sealed secrets v1");

export interface SealedBox {
  /** The sender's ephemeral x25519 public key, raw 32 bytes, base64url. */
  ephemeralPublicKey: string;
  /** AES-GCM nonce, 12 bytes, base64url. */
  iv: string;
  /** Ciphertext followed by the 16-byte GCM tag, base64url. */
  ciphertext: string;
}

export interface SealKeyPair {
  /** Raw 32-byte x25519 public key, base64url: what the agent registers. */
  publicKey: string;
  privateKey: crypto.KeyObject;
}

/** A fresh x25519 key pair. The private key stays a KeyObject in memory. */
export function generateSealKeyPair(): SealKeyPair {
  const { publicKey, privateKey } = crypto.generateKeyPairSync("x25519");
  return { publicKey: rawPublicKey(publicKey), privateKey };
}

function rawPublicKey(key: crypto.KeyObject): string {
  const jwk = key.export({ format: "jwk" });
  if (typeof jwk.x !== "string") throw new Error("not an x25519 public key");
  return jwk.x;
}

function publicKeyObject(raw: string): crypto.KeyObject {
  if (!/^[A-Za-z0-9_-]{43}$/.test(raw)) throw new Error("an x25519 public key is 32 bytes in base64url");
  return crypto.createPublicKey({ key: { kty: "OKP", crv: "X25519", x: raw }, format: "jwk" });
}

function boxKey(shared: Buffer, ephemeral: string, recipient: string, context: string): Buffer {
  // The salt binds both public keys; the context (job and attempt) binds the box to one job.
  const salt = Buffer.from(`${ephemeral}.${recipient}`);
  return Buffer.from(
    crypto.hkdfSync("sha256", shared, salt, Buffer.concat([INFO, Buffer.from(context)]), 32),
  );
}

/** Seals `plaintext` for the holder of `recipientPublicKey`; `context` must match when opened. */
export function seal(plaintext: string, recipientPublicKey: string, context: string): SealedBox {
  const recipient = publicKeyObject(recipientPublicKey);
  const ephemeral = crypto.generateKeyPairSync("x25519");
  const ephemeralPublicKey = rawPublicKey(ephemeral.publicKey);
  const shared = crypto.diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient });
  const key = boxKey(shared, ephemeralPublicKey, recipientPublicKey, context);
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return { ephemeralPublicKey, iv: iv.toString("base64url"), ciphertext: body.toString("base64url") };
}

/** Opens a box sealed for `keys`; throws when it was not, or was changed, or `context` differs. */
export function openSealed(box: SealedBox, keys: SealKeyPair, context: string): string {
  const shared = crypto.diffieHellman({
    privateKey: keys.privateKey,
    publicKey: publicKeyObject(box.ephemeralPublicKey),
  });
  const key = boxKey(shared, box.ephemeralPublicKey, keys.publicKey, context);
  const body = Buffer.from(box.ciphertext, "base64url");
  if (body.length < 16) throw new Error("a sealed box too short to hold its tag");
  const decipher = crypto.createDecipheriv("aes-256-gcm", key, Buffer.from(box.iv, "base64url"));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(body.subarray(body.length - 16));
  return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString(
    "utf8",
  );
}

/** The `context` of a job's secrets box: the job and attempt it was sealed for. */
export function secretsContext(jobId: string, attempt: number): string {
  return `secrets:${jobId}:${attempt}`;
}

/**
 * Secret values at rest are envelopes (`sluice:enc:v1:…`): the job message carries them so, and an
 * agent that finds one in its configuration asks the server for the values (secretsRequest).
 */
export const ENVELOPE_PREFIX = "sluice:enc:v1:";

export function isEnvelope(value: unknown): value is string {
  return typeof value === "string" && value.startsWith(ENVELOPE_PREFIX);
}

/**
 * `{{resolve:secret:NAME}}` in a configuration value: a secret of the server's secret store. The
 * job carries the reference; the agent that took it gets the value in its sealed box (5.11),
 * keyed by the reference text, and replaces every occurrence. NAME is 1–128 characters from
 * `A-Z a-z 0-9 _ . @ + = -`.
 */
export const STORE_REFERENCE_SOURCE = String.raw`\{\{resolve:secret:([A-Za-z0-9_.@+=-]{1,128})\}\}`;

/** A fresh global RegExp of a store reference (one per use: `lastIndex` is state). */
export function storeReferencePattern(): RegExp {
  return new RegExp(STORE_REFERENCE_SOURCE, "g");
}

/** Whether `text` is exactly one store reference (a key of a sealed box that is not a property). */
export function isStoreReference(text: string): boolean {
  return new RegExp(`^${STORE_REFERENCE_SOURCE}$`).test(text);
}
