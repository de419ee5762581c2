import "./realm";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { extract } from "tar";
import {
  collectEntries,
  createArchiveStream,
  createPackStream,
  unpackArchive,
} from "../../src/artifacts/archive";
import { ArtifactError } from "../../src/providers/types";
import { craftArchive, type CraftedEntry } from "./craft";
import { packToFile, removeDir, snapshot, tempDir } from "./tree";

let base: string;

beforeAll(async () => {
  base = await tempDir("archive");
});

afterAll(async () => {
  await removeDir(base);
});

let counter = 0;
/** A fresh case directory holding `dest/` (where we extract) and `outside/` (must stay empty). */
async function freshCase() {
  const dir = path.join(base, `case-${++counter}`);
  const dest = path.join(dir, "dest");
  const outside = path.join(dir, "outside");
  await mkdir(outside, { recursive: true });
  return { dir, dest, outside, archive: path.join(dir, "a.tar.gz") };
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

async function expectRefused(entries: CraftedEntry[], mention: string) {
  const c = await freshCase();
  await writeFile(c.archive, craftArchive(entries));
  const error = await unpackArchive(c.archive, c.dest, "Src").then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ArtifactError);
  expect((error as ArtifactError).failureType).toBe("ConfigurationError");
  expect((error as ArtifactError).message).toContain(mention);
  expect((error as ArtifactError).message).toContain("artifact Src");
  expect(await readdir(c.outside)).toEqual([]);
  // Validation happens before extraction: a refused archive writes nothing at all.
  expect(await readdir(c.dest).catch(() => [])).toEqual([]);
  expect((await readdir(c.dir)).sort()).toEqual(["a.tar.gz", "outside"]);
}

describe("pack and unpack", () => {
  it("round trips a tree with directories, executables, symlinks and hard links", async () => {
    const c = await freshCase();
    const src = path.join(c.dir, "src");
    await mkdir(path.join(src, "docs/v1"), { recursive: true });
    await mkdir(path.join(src, "empty"), { recursive: true });
    await writeFile(path.join(src, "README.md"), "hello\n");
    await writeFile(path.join(src, ".hidden"), "dot file");
    await writeFile(path.join(src, "docs/v1/index.html"), "<h1>v1</h1>");
    await writeFile(path.join(src, "run.sh"), "#!/bin/sh\necho hi\n");
    await chmod(path.join(src, "run.sh"), 0o755);
    await symlink("v1", path.join(src, "docs/current"));
    await symlink("../README.md", path.join(src, "docs/readme"));
    await link(path.join(src, "README.md"), path.join(src, "docs/README.copy"));
    await writeFile(path.join(src, "été 日本.txt"), "unicode name");

    await packToFile("Src", src, undefined, c.archive);
    await unpackArchive(c.archive, c.dest, "Src");
    expect(await snapshot(c.dest)).toEqual(await snapshot(src));
    expect((await snapshot(c.dest))["docs/current"]).toBe("link:v1");
    expect(await readdir(c.outside)).toEqual([]);
  });

  it("packs only the listed files, keeping their directories", async () => {
    const c = await freshCase();
    const src = path.join(c.dir, "src");
    await mkdir(path.join(src, "dist/sub"), { recursive: true });
    await writeFile(path.join(src, "dist/a.js"), "a");
    await writeFile(path.join(src, "dist/sub/b.js"), "b");
    await writeFile(path.join(src, "ignored.txt"), "no");
    await packToFile("Out", src, ["dist/sub/b.js", "dist/a.js"], c.archive);
    await unpackArchive(c.archive, c.dest, "Out");
    expect(await snapshot(c.dest)).toEqual({
      dist: "dir",
      "dist/a.js": "file:a",
      "dist/sub": "dir",
      "dist/sub/b.js": "file:b",
    });
  });

  it("round trips an empty directory", async () => {
    const c = await freshCase();
    const src = path.join(c.dir, "src");
    await mkdir(src, { recursive: true });
    await packToFile("Out", src, undefined, c.archive);
    await unpackArchive(c.archive, c.dest, "Out");
    expect(await snapshot(c.dest)).toEqual({});
  });

  it("produces the same bytes for the same tree", async () => {
    const c = await freshCase();
    const src = path.join(c.dir, "src");
    await mkdir(path.join(src, "b"), { recursive: true });
    await writeFile(path.join(src, "b/z"), "z");
    await writeFile(path.join(src, "a"), "a");
    const second = path.join(c.dir, "b.tar.gz");
    await packToFile("Out", src, undefined, c.archive);
    await packToFile("Out", src, undefined, second);
    expect((await readFile(c.archive)).equals(await readFile(second))).toBe(true);
  });

  it("unpacks an archive made by GNU tar with ./ entries", async () => {
    const c = await freshCase();
    const src = path.join(c.dir, "src");
    await mkdir(path.join(src, "d"), { recursive: true });
    await writeFile(path.join(src, "d/f"), "gnu");
    await symlink("d/f", path.join(src, "l"));
    execFileSync("tar", ["-czf", c.archive, "-C", src, "."]);
    await unpackArchive(c.archive, c.dest, "Gnu");
    expect(await snapshot(c.dest)).toEqual({ d: "dir", "d/f": "file:gnu", l: "link:d/f" });
  });

  it("packs in parallel deflate blocks that one gzip stream holds, as GNU tar and gzip read it", async () => {
    const c = await freshCase();
    const src = path.join(c.dir, "src");
    await mkdir(path.join(src, "d"), { recursive: true });
    // Several deflate blocks of each kind: text that refers back across block boundaries, and noise.
    const text = Array.from({ length: 120_000 }, (_, i) => `line ${i % 5000} of the build log\n`).join("");
    await writeFile(path.join(src, "d/log.txt"), text);
    await writeFile(path.join(src, "noise.bin"), randomBytes(2 * 1024 * 1024 + 17));
    for (const level of [0, 1]) {
      const { paths } = await collectEntries("Out", { root: src });
      const archive = Buffer.concat(await collect(createArchiveStream(src, paths, level)));
      const tar = Buffer.concat(await createPackStream(src, paths).collect());
      expect(tar.length).toBeGreaterThan(4 * 1024 * 1024);
      // Exactly the tar, in one gzip member.
      expect(gunzipSync(archive).equals(tar)).toBe(true);
      if (level === 0) expect(archive.length).toBeGreaterThan(tar.length);
      else expect(archive.length).toBeLessThan(tar.length * 0.6);
      await writeFile(c.archive, archive);
      execFileSync("gzip", ["-t", c.archive]);
      const out = path.join(c.dir, `gnu-${level}`);
      await mkdir(out);
      execFileSync("tar", ["-xzf", c.archive, "-C", out]);
      expect(await snapshot(out)).toEqual(await snapshot(src));
      // node-tar's own extraction (gzip through minizlib), as agents before this one read archives.
      const old = path.join(c.dir, `node-tar-${level}`);
      await mkdir(old);
      await extract({ file: c.archive, cwd: old, strict: true });
      expect(await snapshot(old)).toEqual(await snapshot(src));
    }
  });

  it("accepts a symlink that climbs but stays inside", async () => {
    const c = await freshCase();
    await writeFile(
      c.archive,
      craftArchive([
        { path: "a/b/", type: "Directory" },
        { path: "top.txt", type: "File", body: "top" },
        { path: "a/b/up", type: "SymbolicLink", linkpath: "../../top.txt" },
      ]),
    );
    await unpackArchive(c.archive, c.dest, "Src");
    expect((await snapshot(c.dest))["a/b/up"]).toBe("link:../../top.txt");
  });
});

describe("unpack refuses unsafe archives and writes nothing", () => {
  it("a path climbing out with ..", async () => {
    await expectRefused([{ path: "../evil", type: "File", body: "x" }], '"../evil"');
  });

  it("a .. in the middle of a path", async () => {
    await expectRefused(
      [
        { path: "ok.txt", type: "File", body: "fine" },
        { path: "a/../../outside/evil", type: "File", body: "x" },
      ],
      "a/../../outside/evil",
    );
  });

  it("an absolute path", async () => {
    await expectRefused([{ path: "/abs/evil", type: "File", body: "x" }], '"/abs/evil"');
  });

  it("a symlink to /etc and a file written through it", async () => {
    await expectRefused(
      [
        { path: "etc", type: "SymbolicLink", linkpath: "/etc" },
        { path: "etc/sluice-evil", type: "File", body: "x" },
      ],
      '"etc"',
    );
  });

  it("a file written through a symlink that itself points inside", async () => {
    await expectRefused(
      [
        { path: "real/", type: "Directory" },
        { path: "alias", type: "SymbolicLink", linkpath: "real" },
        { path: "alias/file", type: "File", body: "x" },
      ],
      'goes through the symbolic link "alias"',
    );
  });

  it("a symlink resolving outside", async () => {
    await expectRefused(
      [
        { path: "a/", type: "Directory" },
        { path: "a/x", type: "SymbolicLink", linkpath: "../../x" },
      ],
      '"a/x"',
    );
  });

  it("a chain of symlinks that leaves through another symlink", async () => {
    await expectRefused(
      [
        { path: "here", type: "SymbolicLink", linkpath: "." },
        { path: "escape", type: "SymbolicLink", linkpath: "here/.." },
      ],
      '"escape"',
    );
  });

  it("a hard link to a file outside", async () => {
    await expectRefused([{ path: "h", type: "Link", linkpath: "../outside/secret" }], '"h"');
  });

  it("a hard link to an absolute path", async () => {
    await expectRefused([{ path: "passwd", type: "Link", linkpath: "/etc/passwd" }], '"passwd"');
  });

  it("a hard link to a symlink", async () => {
    await expectRefused(
      [
        { path: "d/", type: "Directory" },
        { path: "d/l", type: "SymbolicLink", linkpath: "../x" },
        { path: "h", type: "Link", linkpath: "d/l" },
      ],
      '"h"',
    );
  });

  it("a FIFO", async () => {
    await expectRefused([{ path: "pipe", type: "FIFO" }], "type FIFO");
  });

  it("a character device", async () => {
    await expectRefused([{ path: "null", type: "CharacterDevice" }], "type CharacterDevice");
  });

  it("bytes that are not a tar.gz", async () => {
    const c = await freshCase();
    await writeFile(c.archive, Buffer.from("definitely not gzip"));
    await expect(unpackArchive(c.archive, c.dest, "Src")).rejects.toThrow(/not a valid tar\.gz/);
  });
});

describe("packing refuses what no extractor would accept", () => {
  it("a symlink pointing outside the artifact", async () => {
    const c = await freshCase();
    const src = path.join(c.dir, "src");
    await mkdir(src);
    await symlink("/etc", path.join(src, "etc"));
    await expect(collectEntries("Out", { root: src })).rejects.toThrow(
      /artifact Out: entry "etc" is refused: symbolic link to "\/etc"/,
    );
  });

  it("a FIFO", async () => {
    const c = await freshCase();
    const src = path.join(c.dir, "src");
    await mkdir(src);
    execFileSync("mkfifo", [path.join(src, "fifo")]);
    await expect(collectEntries("Out", { root: src })).rejects.toThrow(/"fifo" is neither a file/);
  });

  it("paths outside the root and missing files", async () => {
    const c = await freshCase();
    await expect(collectEntries("Out", { root: c.dir, files: ["../x"] })).rejects.toThrow(
      /"\.\.\/x" is not a relative path/,
    );
    await expect(collectEntries("Out", { root: c.dir, files: ["missing.txt"] })).rejects.toThrow(
      /"missing.txt" does not exist/,
    );
  });

  it("a listed file under a symlinked directory", async () => {
    const c = await freshCase();
    const src = path.join(c.dir, "src");
    await mkdir(path.join(src, "real"), { recursive: true });
    await writeFile(path.join(src, "real/f"), "f");
    await symlink("real", path.join(src, "alias"));
    await expect(collectEntries("Out", { root: src, files: ["alias/f"] })).rejects.toThrow(
      /goes through the symbolic link "alias"/,
    );
  });
});

describe("properties", () => {
  const segment = fc.stringMatching(/^[A-Za-z0-9._ é日-]{1,12}$/).filter((s) => s !== "." && s !== "..");
  const relativePath = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"));

  it("safe relative paths round trip exactly", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(relativePath, fc.string({ maxLength: 40 })), {
          minLength: 1,
          maxLength: 8,
          selector: ([p]) => p,
        }),
        async (files) => {
          // A path cannot be a file and the parent of another file at once.
          const paths = files.map(([p]) => p);
          const usable = files.filter(([p]) => !paths.some((other) => other.startsWith(`${p}/`)));
          const c = await freshCase();
          const src = path.join(c.dir, "src");
          for (const [rel, content] of usable) {
            await mkdir(path.dirname(path.join(src, rel)), { recursive: true });
            await writeFile(path.join(src, rel), content);
          }
          await packToFile(
            "Prop",
            src,
            usable.map(([p]) => p),
            c.archive,
          );
          await unpackArchive(c.archive, c.dest, "Prop");
          const restored = await snapshot(c.dest);
          const expected = await snapshot(src);
          expect(restored).toEqual(expected);
          for (const [rel, content] of usable) expect(restored[rel]).toBe(`file:${content}`);
          await removeDir(c.dir);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("paths with a .. segment or an absolute start are always refused", async () => {
    const unsafe = fc.oneof(
      fc
        .tuple(fc.array(segment, { maxLength: 3 }), fc.array(segment, { maxLength: 3 }))
        .map(([before, after]) => [...before, "..", ...after].join("/")),
      relativePath.map((p) => `/${p}`),
    );
    await fc.assert(
      fc.asyncProperty(unsafe, fc.constantFrom("File", "Directory", "SymbolicLink"), async (bad, type) => {
        const entry: CraftedEntry =
          type === "SymbolicLink" ? { path: bad, type, linkpath: "x" } : { path: bad, type, body: "" };
        const c = await freshCase();
        await writeFile(c.archive, craftArchive([{ path: "fine.txt", type: "File", body: "ok" }, entry]));
        const error = await unpackArchive(c.archive, c.dest, "Prop").then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ArtifactError);
        expect((error as ArtifactError).failureType).toBe("ConfigurationError");
        expect(await readdir(c.dest).catch(() => [])).toEqual([]);
        expect(await readdir(c.outside)).toEqual([]);
        await removeDir(c.dir);
      }),
      { numRuns: 40 },
    );
  });
});
