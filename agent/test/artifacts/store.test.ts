import "./realm";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { artifactsBucketConfig, type StoredArtifact } from "@sluice/protocol";
import { Pack } from "tar";
import {
  CHUNK_BYTES,
  SMALL_OBJECT_BYTES,
  createArtifactStore,
  type ArtifactStoreOptions,
} from "../../src/artifacts/store";
import { ArtifactError, type ArtifactStore } from "../../src/providers/types";
import { craftArchive } from "./craft";
import { removeDir, snapshot, tempDir } from "./tree";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const prefix = `agtest_${randomBytes(4).toString("hex")}`;
const executionId = "exec-1";

let nc: NatsConnection;
let objectStore: ObjectStore;
let jsm: JetStreamManager;
let store: ArtifactStore;
let base: string;

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(nc);
  const { bucket, ...settings } = artifactsBucketConfig(prefix);
  objectStore = await new Objm(nc).create(bucket, settings);
  base = await tempDir("store");
});

afterAll(async () => {
  await objectStore?.destroy();
  await nc?.close();
  await removeDir(base);
});

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
  const { bucket } = artifactsBucketConfig(prefix);
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

// Every case runs twice: downloads through nats.js's object reader, and with the direct gets the
// agent uses for objects of one chunk (larger ones still go through the reader).
describe.each([
  ["through the object store's reader", false],
  ["with direct gets for small objects", true],
])("artifact store over a NATS object store, %s", (_mode, direct) => {
  /** A store on `os`, with direct gets (on `manager`) in the second run. */
  const makeStore = (
    options: ArtifactStoreOptions = {},
    os: ObjectStore = objectStore,
    manager: JetStreamManager = jsm,
  ): ArtifactStore =>
    createArtifactStore(os, {
      ...options,
      ...(direct ? { direct: { nc, jsm: manager, bucket: artifactsBucketConfig(prefix).bucket } } : {}),
    });

  beforeAll(() => {
    store = makeStore();
  });

  it("round trips a directory tree with a symlink, reporting the stored bytes' size and hash", async () => {
    const c = await fresh();
    await mkdir(path.join(c.src, "lib/deep"), { recursive: true });
    await writeFile(path.join(c.src, "lib/deep/code.js"), "module.exports = 42;\n");
    await writeFile(path.join(c.src, "package.json"), '{"name":"x"}');
    await symlink("lib/deep/code.js", path.join(c.src, "main.js"));

    const stored = await store.upload("Build", `${executionId}/Build`, { root: c.src });
    expect(stored.name).toBe("Build");
    expect(stored.objectKey).toBe(`${executionId}/Build`);
    const bytes = await objectStore.getBlob(stored.objectKey);
    expect(bytes).not.toBeNull();
    expect(stored.size).toBe(bytes!.length);
    expect(stored.sha256).toBe(sha256(bytes!));

    await store.download(stored, c.dest);
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
    const stored = await store.upload("Dist", `${executionId}/Dist`, { root: c.src, files: ["dist/app.js"] });
    await store.download(stored, c.dest);
    expect(await snapshot(c.dest)).toEqual({ dist: "dir", "dist/app.js": "file:app" });
  });

  it("refuses an object replaced by other bytes of the same size, naming both hashes", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "a.txt"), "original");
    const stored = await store.upload("Tampered", `${executionId}/Tampered`, { root: c.src });
    const bytes = Buffer.from((await objectStore.getBlob(stored.objectKey))!);
    bytes[bytes.length - 5]! ^= 0xff;
    await objectStore.putBlob({ name: stored.objectKey }, bytes);

    const error = await failureOf(store.download(stored, c.dest));
    expect(error.failureType).toBe("RevisionUnavailable");
    expect(error.message).toContain(stored.sha256);
    expect(error.message).toContain(sha256(bytes));
    expect(await readdir(c.dest).catch(() => [])).toEqual([]);
  });

  it("refuses an object replaced by another archive, naming both hashes", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "a.txt"), "original");
    const stored = await store.upload("Replaced", `${executionId}/Replaced`, { root: c.src });
    const other = path.join(c.dir, "other");
    await mkdir(other);
    await writeFile(path.join(other, "a.txt"), "replaced by something longer");
    const replaced = await store.upload("Replaced", stored.objectKey, { root: other });
    expect(replaced.sha256).not.toBe(stored.sha256);

    const error = await failureOf(store.download(stored, c.dest));
    expect(error.failureType).toBe("RevisionUnavailable");
    expect(error.message).toContain(stored.sha256);
    expect(error.message).toContain(replaced.sha256);
    expect(await readdir(c.dest).catch(() => [])).toEqual([]);
  });

  it("refuses an object of the recorded hash but another size", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "a.txt"), "sized");
    const stored = await store.upload("Sized", `${executionId}/Sized`, { root: c.src });
    const error = await failureOf(store.download({ ...stored, size: stored.size - 1 }, c.dest));
    expect(error.failureType).toBe("RevisionUnavailable");
    expect(error.message).toContain(`expected ${stored.size - 1} bytes`);
  });

  it("reports a missing object as RevisionUnavailable", async () => {
    const c = await fresh();
    const missing: StoredArtifact = {
      name: "Gone",
      objectKey: `${executionId}/Gone`,
      size: 10,
      sha256: "0".repeat(64),
    };
    const error = await failureOf(store.download(missing, c.dest));
    expect(error.failureType).toBe("RevisionUnavailable");
    expect(error.message).toContain("exec-1/Gone");
    expect(error.message).toContain("missing");
  });

  it("refuses an artifact over the size cap and stores nothing", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "noise.bin"), randomBytes(64 * 1024));
    const small = makeStore({ maxBytes: 4096 });
    const error = await failureOf(small.upload("Huge", `${executionId}/Huge`, { root: c.src }));
    expect(error.failureType).toBe("ConfigurationError");
    expect(error.message).toBe("artifact Huge is larger than the 4 KiB cap");
    expect(await objectStore.info(`${executionId}/Huge`)).toBeNull();
  });

  it("refuses to unpack a stored archive with an unsafe entry", async () => {
    const c = await fresh();
    const bytes = craftArchive([
      { path: "ok.txt", type: "File", body: "fine" },
      { path: "../outside/evil", type: "File", body: "x" },
    ]);
    const key = `${executionId}/Evil`;
    await objectStore.putBlob({ name: key }, bytes);
    const stored: StoredArtifact = {
      name: "Evil",
      objectKey: key,
      size: bytes.length,
      sha256: sha256(bytes),
    };
    const error = await failureOf(store.download(stored, path.join(c.dir, "dest")));
    expect(error.failureType).toBe("ConfigurationError");
    expect(error.message).toContain("../outside/evil");
    expect(await readdir(c.outside)).toEqual([]);
    expect((await readdir(c.dir)).sort()).toEqual(["outside", "src"]);
  });

  it("round trips 20 MB", async () => {
    const c = await fresh();
    const data = randomBytes(20 * 1024 * 1024);
    await writeFile(path.join(c.src, "big.bin"), data);
    const stored = await store.upload("Big", `${executionId}/Big`, { root: c.src });
    expect(stored.size).toBeGreaterThan(20 * 1024 * 1024);
    await store.download(stored, c.dest);
    expect(sha256(await readFile(path.join(c.dest, "big.bin")))).toBe(sha256(data));
  });

  it("stores an incompressible artifact without compressing it, and round trips it byte for byte", async () => {
    const c = await fresh();
    const data = randomBytes(3 * 1024 * 1024);
    await writeFile(path.join(c.src, "random.bin"), data);
    await writeFile(path.join(c.src, "small.txt"), "a little text ".repeat(100));
    const stored = await store.upload("Random", `${executionId}/Random`, { root: c.src });
    const bytes = Buffer.from((await objectStore.getBlob(stored.objectKey))!);
    // Still gzip (PROTOCOL.md 9), with the tar in deflate's stored blocks (BTYPE 00): a little
    // larger than the tar itself, where compressing at any level would have cost CPU for nothing.
    expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect((bytes[10]! >> 1) & 0b11).toBe(0);
    expect(stored.size).toBeGreaterThan(data.length + 1400);
    expect(gunzipSync(bytes).length % 512).toBe(0);
    await store.download(stored, c.dest);
    expect(sha256(await readFile(path.join(c.dest, "random.bin")))).toBe(sha256(data));
    expect(await readFile(path.join(c.dest, "small.txt"), "utf8")).toBe("a little text ".repeat(100));
  });

  it("compresses a compressible artifact", async () => {
    const c = await fresh();
    const lines = Array.from({ length: 40_000 }, (_, i) => `${i} build step ok ${i % 97}\n`).join("");
    await writeFile(path.join(c.src, "build.log"), lines);
    const stored = await store.upload("Log", `${executionId}/Log`, { root: c.src });
    const bytes = Buffer.from((await objectStore.getBlob(stored.objectKey))!);
    expect((bytes[10]! >> 1) & 0b11).not.toBe(0);
    expect(stored.size).toBeLessThan(lines.length / 4);
    await store.download(stored, c.dest);
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
      const stored = await store.upload("Rotten", `${executionId}/Rotten`, { root: c.src });
      // The same object with one byte of its second chunk flipped, its metadata (size, digest)
      // unchanged: what a damaged disk under the stream would hand out. gzip itself may or may
      // not notice before the end; the SHA-256 always does.
      const corrupted = await rewriteObject(stored.objectKey, (chunk, index) => {
        if (index === 1) chunk[1000]! ^= 0x01;
        return chunk;
      });
      expect(corrupted.chunks).toBeGreaterThan(1);
      const error = await failureOf(store.download(stored, c.dest));
      expect(error.failureType).toBe("RevisionUnavailable");
      expect(error.message).toContain(stored.sha256);
      expect(error.message).toContain("nothing was unpacked");
      // Neither the destination nor the staging directory is left in the workspace.
      expect(await readdir(path.dirname(c.dest))).toEqual([]);
    },
  );

  it("refuses an object that lost a chunk, having unpacked nothing", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "data.bin"), randomBytes(4 * CHUNK_BYTES));
    const stored = await store.upload("Holed", `${executionId}/Holed`, { root: c.src });
    const { bucket } = artifactsBucketConfig(prefix);
    const { nuid } = (await objectStore.info(stored.objectKey))!;
    const second = (await jsm.direct.getMessage(`OBJ_${bucket}`, {
      seq: 1,
      next_by_subj: `$O.${bucket}.C.${nuid}`,
    }))!;
    const third = (await jsm.direct.getMessage(`OBJ_${bucket}`, {
      seq: second.seq + 1,
      next_by_subj: `$O.${bucket}.C.${nuid}`,
    }))!;
    await jsm.streams.deleteMessage(`OBJ_${bucket}`, third.seq);
    const error = await failureOf(store.download(stored, c.dest));
    expect(error.failureType).toBe("RevisionUnavailable");
    expect(error.message).toContain("Holed");
    expect(await readdir(path.dirname(c.dest))).toEqual([]);
  });

  it("reassembles chunks in order while other objects' chunks interleave", async () => {
    const c = await fresh();
    const data = randomBytes(11 * CHUNK_BYTES + 777);
    await writeFile(path.join(c.src, "data.bin"), data);
    const stored = await store.upload("Mixed", `${executionId}/Mixed`, { root: c.src });
    // Written again with another object's messages between its chunks, one to three of them:
    // as uploads from several agents at once leave them in the bucket's stream.
    const { chunks, sequences } = await rewriteObject(
      stored.objectKey,
      (chunk) => chunk,
      (index) => 1 + (index % 3),
    );
    // More chunks than direct gets in flight (8), and not one after the other.
    expect(chunks).toBeGreaterThan(8);
    expect(sequences[sequences.length - 1]! - sequences[0]! + 1).toBeGreaterThan(2 * chunks);
    await store.download(stored, c.dest);
    expect(sha256(await readFile(path.join(c.dest, "data.bin")))).toBe(sha256(data));
  });

  it("downloads artifacts stored by the previous store: node-tar's gzip, nats.js's 128 KiB chunks", async () => {
    // One chunk (the small path with direct gets), then many.
    for (const size of [20, 2 * 1024 * 1024]) {
      const c = await fresh();
      const data = Buffer.concat([Buffer.from("old format ".repeat(size / 20)), randomBytes(size / 2)]);
      await mkdir(path.join(c.src, "sub"));
      await writeFile(path.join(c.src, "sub/data.bin"), data);
      await symlink("sub/data.bin", path.join(c.src, "link"));
      // What the previous store did: node-tar's Pack with gzip (level 6, on the main thread),
      // through nats.js's put with its default chunks.
      const pack = new Pack({ cwd: c.src, gzip: true, portable: true, noDirRecurse: true, jobs: 1 });
      for (const entry of ["link", "sub", "sub/data.bin"]) pack.add(entry);
      pack.end();
      const archive = Buffer.concat(await pack.collect());
      const key = `${executionId}/Old-${size}`;
      const info = await objectStore.putBlob({ name: key }, archive);
      expect(info.chunks).toBe(Math.ceil(archive.length / (128 * 1024)));
      const stored: StoredArtifact = {
        name: "Old",
        objectKey: key,
        size: archive.length,
        sha256: sha256(archive),
      };
      await store.download(stored, c.dest);
      expect(await snapshot(c.dest)).toEqual(await snapshot(c.src));
    }
  });

  it("honours the compression level", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "text.txt"), "compress me ".repeat(20_000));
    const plain = await makeStore({ compressionLevel: 0 }).upload("Plain", `${executionId}/Plain`, {
      root: c.src,
    });
    const packed = await store.upload("Packed", `${executionId}/Packed`, { root: c.src });
    expect(plain.size).toBeGreaterThan(240_000);
    expect(packed.size).toBeLessThan(10_000);
    await store.download(plain, c.dest);
    expect(await readFile(path.join(c.dest, "text.txt"), "utf8")).toBe("compress me ".repeat(20_000));
  });

  it("reports an unreachable NATS as SystemUnavailable", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "a.txt"), "a");
    const stored = await store.upload("Before", `${executionId}/Before`, { root: c.src });

    const lonely = await connect({ servers: NATS_URL });
    const { bucket } = artifactsBucketConfig(prefix);
    const closedStore = createArtifactStore(await new Objm(lonely).open(bucket), {
      ...(direct ? { direct: { nc: lonely, jsm: await jetstreamManager(lonely), bucket } } : {}),
    });
    await lonely.close();

    const up = await failureOf(closedStore.upload("After", `${executionId}/After`, { root: c.src }));
    expect(up.failureType).toBe("SystemUnavailable");
    const down = await failureOf(closedStore.download(stored, c.dest));
    expect(down.failureType).toBe("SystemUnavailable");
    expect(down.message).toContain("Before");
  });

  it("reads an archive of one chunk and one of several alike", async () => {
    const c = await fresh();
    await writeFile(path.join(c.src, "small.txt"), "small");
    const small = await store.upload("Small", `${executionId}/Small`, { root: c.src });
    expect(small.size).toBeLessThan(SMALL_OBJECT_BYTES);
    expect((await objectStore.info(small.objectKey))!.chunks).toBe(1);
    const get = jest.spyOn(objectStore, "get");
    await store.download(small, c.dest);
    expect(await snapshot(c.dest)).toEqual({ "small.txt": "file:small" });
    // With direct gets, the object store's reader (an ephemeral consumer) is not used at all.
    expect(get).toHaveBeenCalledTimes(direct ? 0 : 1);

    const d = await fresh();
    await writeFile(path.join(d.src, "noise.bin"), randomBytes(CHUNK_BYTES / 2));
    await writeFile(path.join(d.src, "more.bin"), randomBytes(CHUNK_BYTES));
    const chunked = await store.upload("Chunked", `${executionId}/Chunked`, { root: d.src });
    expect((await objectStore.info(chunked.objectKey))!.chunks).toBeGreaterThan(1);
    await store.download(chunked, d.dest);
    expect(await snapshot(d.dest)).toEqual(await snapshot(d.src));
    // With direct gets, larger objects come by direct gets too, not through the reader.
    expect(get).toHaveBeenCalledTimes(direct ? 0 : 2);
    get.mockRestore();
  });
});
