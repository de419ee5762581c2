import "./realm";
import { createHash, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { headers } from "@nats-io/transport-node";
import { artifactsBucketConfig, type MessageInput, type StoredArtifact } from "@sluice/protocol";
import {
  SMALL_OBJECT_BYTES,
  createArtifactStore,
  type ArtifactStoreOptions,
} from "../../src/artifacts/store";
import { ArtifactError, type ArtifactStore, type OutputSpec } from "../../src/providers/types";
import { isRetryable } from "../../src/runtime/retry";
import { FakeServer } from "../support/fake-server";
import { TEST_TOKEN } from "../support/agents";
import { craftArchive } from "./craft";
import { removeDir, snapshot, tempDir } from "./tree";

/** Chunks of nats.js's object store writer in the fake server (the real server writes 1 MiB ones). */
const CHUNK_BYTES = 128 * 1024;
const BUILD = { category: "Build", owner: "Sluice", provider: "Shell", version: "1" } as const;

let server: FakeServer;
let objectStore: ObjectStore;
let jsm: JetStreamManager;
let store: ArtifactStore;
let base: string;

beforeAll(async () => {
  server = await FakeServer.start();
  objectStore = await new Objm(server.nc).open(server.names.artifactsBucket);
  jsm = await jetstreamManager(server.nc);
  store = makeStore();
  base = await tempDir("store");
});

afterAll(async () => {
  await server?.stop();
  await removeDir(base);
});

/** A store on the fake server's artifact routes. */
function makeStore(options: Partial<ArtifactStoreOptions> = {}): ArtifactStore {
  return createArtifactStore({ serverUrl: server.url, token: TEST_TOKEN, ...options });
}

/** A job (allowed on the server, never published) whose action declares the output `name`. */
function producer(name: string): MessageInput<"job"> {
  const job = server.job(BUILD, { outputArtifacts: [{ name }] });
  server.allowJob(job);
  return job;
}

/** Uploads `spec` as the output `name` of a job of its own (or of `job`). */
function up(
  name: string,
  spec: OutputSpec,
  job = producer(name),
  through: ArtifactStore = store,
): Promise<StoredArtifact> {
  return through.upload(name, spec, job);
}

/** Downloads `artifact` as the input of a job of its own. */
function down(artifact: StoredArtifact, destination: string, through: ArtifactStore = store): Promise<void> {
  const job = server.job(BUILD, { inputArtifacts: [artifact] });
  server.allowJob(job);
  return through.download(artifact, destination, job);
}

let counter = 0;
async function fresh() {
  const dir = path.join(base, `case-${++counter}`);
  await mkdir(path.join(dir, "src"), { recursive: true });
  await mkdir(path.join(dir, "outside"), { recursive: true });
  return {
    dir,
    src: path.join(dir, "src"),
    dest: path.join(dir, "work", "dest"),
    outside: path.join(dir, "outside"),
  };
}

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * Writes the object `key` again, its chunks passed through `change`, under the same metadata
 * (size, digest): the bytes no longer match what the metadata and the complete recorded. With
 * `foreign`, that many messages of another object follow each chunk in the stream.
 */
async function rewriteObject(
  key: string,
  change: (chunk: Buffer, index: number) => Buffer,
  foreign: (index: number) => number = () => 0,
): Promise<{ chunks: number; sequences: number[] }> {
  const { bucket } = artifactsBucketConfig(server.prefix);
  const stream = `OBJ_${bucket}`;
  const metaSubject = `$O.${bucket}.M.${Buffer.from(key).toString("base64").replace(/\+/g, "-").replace(/\//g, "_")}`;
  const meta = (await jsm.direct.getMessage(stream, { last_by_subj: metaSubject }))!.json<{
    nuid: string;
    chunks: number;
  }>();
  const js = jsm.jetstream();
  const chunks: Buffer[] = [];
  let seq = 1;
  while (chunks.length < meta.chunks) {
    const m = (await jsm.direct.getMessage(stream, { seq, next_by_subj: `$O.${bucket}.C.${meta.nuid}` }))!;
    chunks.push(Buffer.from(m.data));
    seq = m.seq + 1;
  }
  const nuid = `rewritten${randomBytes(6).toString("hex")}`;
  const other = `$O.${bucket}.C.other${randomBytes(6).toString("hex")}`;
  const sequences: number[] = [];
  for (const [index, chunk] of chunks.entries()) {
    sequences.push((await js.publish(`$O.${bucket}.C.${nuid}`, change(chunk, index))).seq);
    for (let i = 0; i < foreign(index); i++) await js.publish(other, randomBytes(1024));
  }
  const rollup = headers();
  rollup.set("Nats-Rollup", "sub");
  await js.publish(metaSubject, JSON.stringify({ ...meta, nuid }), { headers: rollup });
  return { chunks: chunks.length, sequences };
}

async function failureOf(promise: Promise<unknown>): Promise<ArtifactError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArtifactError);
  return error as ArtifactError;
}

describe("artifact store over the server's job artifact routes", () => {
  it("round trips a directory tree with a symlink, reporting the stored bytes' size and hash", async () => {
    const c = await fresh();
    await mkdir(path.join(c.src, "lib/deep"), { recursive: true });
    await writeFile(path.join(c.src, "lib/deep/code.js"), "module.exports = 42;\n");
    await writeFile(path.join(c.src, "package.json"), '{"name":"x"}');
    await symlink("lib/deep/code.js", path.join(c.src, "main.js"));

    const stored = await up("Build", { root: c.src });
    expect(stored.name).toBe("Build");
    expect(stored.objectKey).toMatch(/^[0-9a-f-]{36}\/[0-9a-f-]{36}\/1\/Build$/);
    const bytes = await objectStore.getBlob(stored.objectKey);
    expect(bytes).not.toBeNull();
    expect(stored.size).toBe(bytes!.length);
    expect(stored.sha256).toBe(sha256(bytes!));

    await down(stored, c.dest);
    expect(await snapshot(c.dest)).toEqual(await snapshot(c.src));
    expect((await snapshot(c.dest))["main.js"]).toBe("link:lib/deep/code.js");
    // The temporary download file is gone.
    expect(await readdir(path.dirname(c.dest))).toEqual(["dest"]);
  });

  it("uploads only the listed files", async () => {
    const c = await fresh();
    await mkdir(path.join(c.src, "dist"), { recursive: true });
    await writeFile(path.join(c.src, "dist/app.js"), "app");
    await writeFile(path.join(c.src, "secret.env"), "nope");
    const stored = await up("Dist", { root: c.src, files: ["dist/app.js"] });
    await down(stored, c.dest);
    expect(await snapshot(c.dest)).toEqual({ dist: "dir", "dist/app.js": "file:app" });
  });

  it("refuses an object replaced by other bytes of the same size, naming both hashes", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "a.txt"), "original");
    const stored = await up("Tampered", { root: c.src });
    const bytes = Buffer.from((await objectStore.getBlob(stored.objectKey))!);
    bytes[bytes.length - 5]! ^= 0xff;
    await objectStore.putBlob({ name: stored.objectKey }, bytes);

    const error = await failureOf(down(stored, c.dest));
    expect(error.failureType).toBe("RevisionUnavailable");
    expect(error.message).toContain(stored.sha256);
    expect(error.message).toContain(sha256(bytes));
    expect(await readdir(c.dest).catch(() => [])).toEqual([]);
  });

  it("refuses an object replaced by another archive, naming both hashes", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "a.txt"), "original");
    const job = producer("Replaced");
    const stored = await up("Replaced", { root: c.src }, job);
    const other = path.join(c.dir, "other");
    await mkdir(other);
    await writeFile(path.join(other, "a.txt"), "replaced by something longer");
    // The same attempt uploading again (a retry) replaces its object.
    const replaced = await up("Replaced", { root: other }, job);
    expect(replaced.objectKey).toBe(stored.objectKey);
    expect(replaced.sha256).not.toBe(stored.sha256);

    const error = await failureOf(down(stored, c.dest));
    expect(error.failureType).toBe("RevisionUnavailable");
    expect(error.message).toContain(stored.sha256);
    expect(error.message).toContain(replaced.sha256);
    expect(await readdir(c.dest).catch(() => [])).toEqual([]);
  });

  it("refuses an object of the recorded hash but another size", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "a.txt"), "sized");
    const stored = await up("Sized", { root: c.src });
    const error = await failureOf(down({ ...stored, size: stored.size - 1 }, c.dest));
    expect(error.failureType).toBe("RevisionUnavailable");
    expect(error.message).toContain(`expected ${stored.size - 1} bytes`);
  });

  it("reports a missing object as RevisionUnavailable", async () => {
    const c = await fresh();
    const missing: StoredArtifact = {
      name: "Gone",
      objectKey: "exec-1/Gone",
      size: 10,
      sha256: "0".repeat(64),
    };
    const error = await failureOf(down(missing, c.dest));
    expect(error.failureType).toBe("RevisionUnavailable");
    expect(error.message).toContain("exec-1/Gone");
    expect(error.message).toContain("missing");
  });

  it("refuses an artifact over the size cap and stores nothing", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "noise.bin"), randomBytes(64 * 1024));
    const small = makeStore({ maxBytes: 4096 });
    const job = producer("Huge");
    const error = await failureOf(up("Huge", { root: c.src }, job, small));
    expect(error.failureType).toBe("ConfigurationError");
    expect(error.message).toBe("artifact Huge is larger than the 4 KiB cap");
    expect(await objectStore.info(`${job.outputArtifactKeyPrefix}Huge`)).toBeNull();
  });

  it("refuses to unpack a stored archive with an unsafe entry", async () => {
    const c = await fresh();
    const bytes = craftArchive([
      { path: "ok.txt", type: "File", body: "fine" },
      { path: "../outside/evil", type: "File", body: "x" },
    ]);
    const key = "exec-1/Evil";
    await objectStore.putBlob({ name: key }, bytes);
    const stored: StoredArtifact = {
      name: "Evil",
      objectKey: key,
      size: bytes.length,
      sha256: sha256(bytes),
    };
    const error = await failureOf(down(stored, path.join(c.dir, "dest")));
    expect(error.failureType).toBe("ConfigurationError");
    expect(error.message).toContain("../outside/evil");
    expect(await readdir(c.outside)).toEqual([]);
    expect((await readdir(c.dir)).sort()).toEqual(["outside", "src"]);
  });

  it("round trips 20 MB", async () => {
    const c = await fresh();
    const data = randomBytes(20 * 1024 * 1024);
    await writeFile(path.join(c.src, "big.bin"), data);
    const stored = await up("Big", { root: c.src });
    expect(stored.size).toBeGreaterThan(20 * 1024 * 1024);
    await down(stored, c.dest);
    expect(sha256(await readFile(path.join(c.dest, "big.bin")))).toBe(sha256(data));
  });

  it("stores an incompressible artifact without compressing it, and round trips it byte for byte", async () => {
    const c = await fresh();
    const data = randomBytes(3 * 1024 * 1024);
    await writeFile(path.join(c.src, "random.bin"), data);
    await writeFile(path.join(c.src, "small.txt"), "a little text ".repeat(100));
    const stored = await up("Random", { root: c.src });
    const bytes = Buffer.from((await objectStore.getBlob(stored.objectKey))!);
    // Still gzip (PROTOCOL.md 9), with the tar in deflate's stored blocks (BTYPE 00): a little
    // larger than the tar itself, where compressing at any level would have cost CPU for nothing.
    expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect((bytes[10]! >> 1) & 0b11).toBe(0);
    expect(stored.size).toBeGreaterThan(data.length + 1400);
    expect(gunzipSync(bytes).length % 512).toBe(0);
    await down(stored, c.dest);
    expect(sha256(await readFile(path.join(c.dest, "random.bin")))).toBe(sha256(data));
    expect(await readFile(path.join(c.dest, "small.txt"), "utf8")).toBe("a little text ".repeat(100));
  });

  it("compresses a compressible artifact", async () => {
    const c = await fresh();
    const lines = Array.from({ length: 40_000 }, (_, i) => `${i} build step ok ${i % 97}\n`).join("");
    await writeFile(path.join(c.src, "build.log"), lines);
    const stored = await up("Log", { root: c.src });
    const bytes = Buffer.from((await objectStore.getBlob(stored.objectKey))!);
    expect((bytes[10]! >> 1) & 0b11).not.toBe(0);
    expect(stored.size).toBeLessThan(lines.length / 4);
    await down(stored, c.dest);
    expect(await readFile(path.join(c.dest, "build.log"), "utf8")).toBe(lines);
  });

  it.each([
    ["stored", () => randomBytes(3 * CHUNK_BYTES + 12345)],
    [
      "compressed",
      () => Buffer.from(Array.from({ length: 1_000_000 }, (_, i) => `${i} ok ${i % 7}\n`).join("")),
    ],
  ])(
    "refuses a corrupted chunk of a %s archive when the download's bytes end, having unpacked nothing",
    async (_kind, make) => {
      const c = await fresh();
      await writeFile(path.join(c.src, "data.bin"), make());
      const stored = await up("Rotten", { root: c.src });
      // The same object with one byte of its second chunk flipped, its metadata (size, digest)
      // unchanged: what a damaged disk under the stream would hand out. gzip itself may or may
      // not notice before the end; the SHA-256 always does.
      const corrupted = await rewriteObject(stored.objectKey, (chunk, index) => {
        if (index === 1) chunk[1000]! ^= 0x01;
        return chunk;
      });
      expect(corrupted.chunks).toBeGreaterThan(1);
      const error = await failureOf(down(stored, c.dest));
      expect(error.failureType).toBe("RevisionUnavailable");
      expect(error.message).toContain(stored.sha256);
      expect(error.message).toContain("nothing was unpacked");
      // Neither the destination nor the staging directory is left in the workspace.
      expect(await readdir(path.dirname(c.dest))).toEqual([]);
    },
  );

  it("honours the compression level", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "text.txt"), "compress me ".repeat(20_000));
    const plain = await up("Plain", { root: c.src }, producer("Plain"), makeStore({ compressionLevel: 0 }));
    const packed = await up("Packed", { root: c.src });
    expect(plain.size).toBeGreaterThan(240_000);
    expect(packed.size).toBeLessThan(10_000);
    await down(plain, c.dest);
    expect(await readFile(path.join(c.dest, "text.txt"), "utf8")).toBe("compress me ".repeat(20_000));
  });

  it("reports an unreachable server as SystemUnavailable, which is retried", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "a.txt"), "a");
    const stored = await up("Before", { root: c.src });
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const away = makeStore({ serverUrl: `http://127.0.0.1:${port}` });

    const upload = await failureOf(up("After", { root: c.src }, producer("After"), away));
    expect(upload.failureType).toBe("SystemUnavailable");
    expect(isRetryable(upload)).toBe(true);
    const download = await failureOf(down(stored, c.dest, away));
    expect(download.failureType).toBe("SystemUnavailable");
    expect(download.message).toContain("Before");
    expect(isRetryable(download)).toBe(true);
  });

  it("abandons a transfer that moves no byte for the idle time, as SystemUnavailable (retried)", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "a.txt"), "a");
    const stored = await up("Before", { root: c.src });
    // A server that takes the request and never answers (one that lost NATS mid-transfer).
    const silent = http.createServer((req) => req.resume());
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const stuck = makeStore({ serverUrl: `http://127.0.0.1:${port}`, idleMs: 300 });
      const upload = await failureOf(up("After", { root: c.src }, producer("After"), stuck));
      expect([upload.failureType, isRetryable(upload)]).toEqual(["SystemUnavailable", true]);
      const download = await failureOf(down(stored, c.dest, stuck));
      expect([download.failureType, isRetryable(download)]).toEqual(["SystemUnavailable", true]);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("retries what the server asks to (409 while the accept is on its way, 503), not a refusal", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "a.txt"), "a");
    for (const status of [409, 503]) {
      server.artifactFailures.push(status);
      const error = await failureOf(up("Later", { root: c.src }));
      expect([status, error.failureType, isRetryable(error)]).toEqual([status, "SystemUnavailable", true]);
    }
    const stored = await up("Mine", { root: c.src });
    // Another job's lease token: refused, and not retried.
    const other = producer("Mine");
    const refused = await failureOf(
      store.download(stored, c.dest, { jobId: other.jobId, attempt: 1, leaseToken: "x".repeat(32) }),
    );
    expect(refused.failureType).toBe("PermissionError");
    expect(isRetryable(refused)).toBe(false);
    // An output its job does not declare: refused by the server.
    const undeclared = await failureOf(store.upload("Extra", { root: c.src }, producer("Mine")));
    expect(undeclared.failureType).toBe("PermissionError");
    expect(await readdir(c.dest).catch(() => [])).toEqual([]);
  });

  it("reads an archive of one chunk and one of several alike", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "small.txt"), "small");
    const small = await up("Small", { root: c.src });
    expect(small.size).toBeLessThan(SMALL_OBJECT_BYTES);
    await down(small, c.dest);
    expect(await snapshot(c.dest)).toEqual({ "small.txt": "file:small" });

    const d = await fresh();
    await writeFile(path.join(d.src, "noise.bin"), randomBytes(CHUNK_BYTES / 2));
    await writeFile(path.join(d.src, "more.bin"), randomBytes(SMALL_OBJECT_BYTES * 2));
    const chunked = await up("Chunked", { root: d.src });
    expect((await objectStore.info(chunked.objectKey))!.chunks).toBeGreaterThan(1);
    await down(chunked, d.dest);
    expect(await snapshot(d.dest)).toEqual(await snapshot(d.src));
  });
});
