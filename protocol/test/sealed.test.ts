/** Sealed boxes (sealed.ts, PROTOCOL.md 5.11): only the key's holder opens them, for one job only. */
import { generateSealKeyPair, isEnvelope, openSealed, seal, secretsContext } from "../src";

const context = secretsContext("7d1f0c52-0b7e-4a39-9f3e-2c6b1d8e4a10", 1);

describe("sealed boxes", () => {
  it("opens with the recipient's key and the same context", () => {
    const agent = generateSealKeyPair();
    expect(agent.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const box = seal('{"Token":"s3cret ünïcode"}', agent.publicKey, context);
    expect(JSON.stringify(box)).not.toContain("s3cret");
    expect(openSealed(box, agent, context)).toBe('{"Token":"s3cret ünïcode"}');
  });

  it("uses a fresh ephemeral key and nonce for every box", () => {
    const agent = generateSealKeyPair();
    const a = seal("same", agent.publicKey, context);
    const b = seal("same", agent.publicKey, context);
    expect(a.ephemeralPublicKey).not.toBe(b.ephemeralPublicKey);
    expect(a.ciphertext).not.toBe(b.ciphertext);
  });

  it("refuses another agent's key, another job's context and any changed byte", () => {
    const agent = generateSealKeyPair();
    const other = generateSealKeyPair();
    const box = seal("value", agent.publicKey, context);
    expect(() => openSealed(box, other, context)).toThrow();
    expect(() => openSealed(box, agent, secretsContext("7d1f0c52-0b7e-4a39-9f3e-2c6b1d8e4a10", 2))).toThrow();
    const bytes = Buffer.from(box.ciphertext, "base64url");
    bytes[0] = bytes[0]! ^ 1;
    expect(() => openSealed({ ...box, ciphertext: bytes.toString("base64url") }, agent, context)).toThrow();
    expect(() => openSealed({ ...box, ephemeralPublicKey: other.publicKey }, agent, context)).toThrow();
  });

  it("refuses a public key that is not 32 bytes of base64url", () => {
    expect(() => seal("value", "not-a-key", context)).toThrow(/32 bytes/);
  });

  it("recognises envelopes", () => {
    expect(isEnvelope("sluice:enc:v1:abc")).toBe(true);
    expect(isEnvelope("plain")).toBe(false);
    expect(isEnvelope(undefined)).toBe(false);
  });
});
