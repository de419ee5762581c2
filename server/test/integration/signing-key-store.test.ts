/**
 * The key that signs messages to agents (persistence/signing-key-store.ts, PROTOCOL.md 11.5) on
 * PostgreSQL: made once however many copies start together, the same for all of them, stored only
 * as a secret-vault envelope, and still opened after the master key is rotated.
 */
import crypto from "node:crypto";
import os from "node:os";
import type { DataSource } from "typeorm";
import { MSG_ID_HEADER, verifyMessage } from "@sluice/protocol";
import { MessageSigner } from "../../src/messaging/message-signer";
import { openDatabase } from "../../src/persistence/data-source";
import { MasterKeyring, SecretVault } from "../../src/persistence/secret-vault";
import { SigningKeyStore } from "../../src/persistence/signing-key-store";
import { createTestDatabase, type TestDatabase } from "../support/database";

const K1 = crypto.randomBytes(32).toString("base64");
const K2 = crypto.randomBytes(32).toString("base64");
let database: TestDatabase;
const open: DataSource[] = [];

async function copy(keys: string): Promise<{ db: DataSource; vault: SecretVault; store: SigningKeyStore }> {
  const db = await openDatabase({ url: database.url, pgliteDir: "memory://" });
  open.push(db);
  const vault = new SecretVault(db, new MasterKeyring({ keys, dataDir: os.tmpdir() }));
  return { db, vault, store: new SigningKeyStore(db, vault) };
}

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  for (const db of open) await db.destroy().catch(() => undefined);
  await database?.drop();
});

it("is made once by copies starting together, shared by all, and never stored in clear", async () => {
  const copies = await Promise.all([copy(K1), copy(K1), copy(K1)]);
  const keys = await Promise.all(copies.map((c) => c.store.current()));
  expect(new Set(keys.map((k) => k.key.publicKey)).size).toBe(1);
  expect(keys.filter((k) => k.created)).toHaveLength(1);
  const seed = keys[0]!.key.privateKey.export({ format: "jwk" }).d!;
  const rows: Array<{ row: string }> = await copies[0]!.db.query(
    `SELECT m::text AS row FROM message_signing_keys m`,
  );
  expect(rows).toHaveLength(1);
  expect(rows[0]!.row).toContain("sluice:enc:v1:");
  expect(rows[0]!.row).not.toContain(seed);
  expect(rows[0]!.row).not.toContain(Buffer.from(seed, "base64url").toString("base64"));
  expect(rows[0]!.row).not.toContain(Buffer.from(seed, "base64url").toString("hex"));

  // What one copy signs, an agent trusting the keys another copy hands out accepts.
  const signer = new MessageSigner(keys[1]!.key, copies[1]!.store);
  const subject = "sluice.jobs.default.Build.Sluice.Shell.1";
  const body = new TextEncoder().encode("{}");
  const headers = signer.headers("job", subject, "job:j:1", body);
  expect(headers.get(MSG_ID_HEADER)).toBe("job:j:1");
  const trusted = new Set(await new MessageSigner(keys[2]!.key, copies[2]!.store).publicKeys());
  expect(verifyMessage(headers, subject, body, trusted).ok).toBe(true);
  expect(() => signer.headers("complete" as never, "sluice.results.complete", "x", body)).toThrow(
    /not a kind the server signs/,
  );
});

it("survives a master key rotation: re-wrapped with the other data keys, opened with the new key only", async () => {
  const before = await (await copy(K1)).store.current();
  const both = await copy(`${K2},${K1}`);
  await both.vault.rotate();
  const after = await (await copy(K2)).store.current();
  expect(after.created).toBe(false);
  expect(after.key.publicKey).toBe(before.key.publicKey);
  // Without the master key, nothing opens it.
  await expect((await copy(crypto.randomBytes(32).toString("base64"))).store.current()).rejects.toThrow(
    /master key/,
  );
});

it("rotates: the new key signs at once on the copy that rotated and on another once it looks; the old one is trusted until its grace ends", async () => {
  const a = await copy(K2);
  const b = await copy(K2);
  const old = (await a.store.current()).key;
  const signerA = new MessageSigner(old, a.store);
  const signerB = new MessageSigner(old, b.store);
  const subject = "sluice.jobs.default.Build.Sluice.Shell.1";
  const body = new TextEncoder().encode("{}");

  const rotation = await signerA.rotate(60_000);
  expect(rotation.publicKey).not.toBe(old.publicKey);
  expect(rotation.retiring).toEqual([{ publicKey: old.publicKey, retiresAt: expect.any(Date) }]);
  const graceLeft = rotation.retiring[0]!.retiresAt.getTime() - Date.now();
  expect(graceLeft).toBeGreaterThan(50_000);
  expect(graceLeft).toBeLessThanOrEqual(60_000);
  expect(signerA.publicKey).toBe(rotation.publicKey);
  // Both keys are handed out, the new one first, the old one with its time.
  const trusted = await signerB.trustedKeys();
  expect(trusted).toEqual([
    { publicKey: rotation.publicKey, retiresAt: null },
    { publicKey: old.publicKey, retiresAt: rotation.retiring[0]!.retiresAt },
  ]);
  // B signed with the old key until it looked (which handing the keys out just did): still accepted.
  expect(
    verifyMessage(
      signerB.headers("job", subject, "job:j:1", body),
      subject,
      body,
      new Set(trusted.map((k) => k.publicKey)),
    ).ok,
  ).toBe(true);
  await signerB.refresh();
  expect(signerB.publicKey).toBe(rotation.publicKey);

  // Rotated again with no grace: every older key is retired at once, and no longer handed out.
  const again = await signerB.rotate(0);
  expect(again.retiring).toEqual([]);
  expect(await signerA.publicKeys()).toEqual([again.publicKey]);
  // The retired rows stay (for the record), retired.
  const rows: Array<{ n: string }> = await a.db.query(
    `SELECT count(*)::text AS n FROM message_signing_keys WHERE retired_at <= now()`,
  );
  expect(Number(rows[0]!.n)).toBe(2);
});
