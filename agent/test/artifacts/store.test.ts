import "./realm";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { artifactsBucketConfig, type StoredArtifact } from "@sluice/protocol";
import {
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
      ...(direct ? { direct: { jsm: manager, bucket: artifactsBucketConfig(prefix).bucket } } : {}),
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
    const closedStore = makeStore({}, await new Objm(lonely).open(bucket), await jetstreamManager(lonely));
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
    await writeFile(path.join(d.src, "noise.bin"), randomBytes(SMALL_OBJECT_BYTES / 2));
    await writeFile(path.join(d.src, "more.bin"), randomBytes(SMALL_OBJECT_BYTES));
    const chunked = await store.upload("Chunked", `${executionId}/Chunked`, { root: d.src });
    expect((await objectStore.info(chunked.objectKey))!.chunks).toBeGreaterThan(1);
    await store.download(chunked, d.dest);
    expect(await snapshot(d.dest)).toEqual(await snapshot(d.src));
    expect(get).toHaveBeenCalledTimes(direct ? 1 : 2);
    get.mockRestore();
  });
});
