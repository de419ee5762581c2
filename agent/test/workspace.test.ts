import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { makeWorkspaceSync, removeTree } from "../src/runtime/workspace";
import { removeDir, tempDir } from "./artifacts/tree";

let base: string;

beforeAll(async () => {
  base = await tempDir("workspace");
});

afterAll(async () => {
  await removeDir(base);
});

describe("job workspaces", () => {
  it("makes a fresh directory with the given subdirectories, and the work directory when it is gone", async () => {
    const workDir = path.join(base, "work");
    const first = makeWorkspaceSync(workDir, "job-1-", [".sluice-job/tmp", "inputs/Src"]);
    const second = makeWorkspaceSync(workDir, "job-1-", []);
    expect(first).not.toBe(second);
    expect(path.basename(first)).toMatch(/^job-1-/);
    expect((await readdir(first)).sort()).toEqual([".sluice-job", "inputs"]);
    expect(await readdir(path.join(first, ".sluice-job"))).toEqual(["tmp"]);
    expect(await readdir(path.join(first, "inputs"))).toEqual(["Src"]);
    expect(await readdir(second)).toEqual([]);
  });

  it("removes a small tree and a large one (past the synchronous budget), never following links", async () => {
    const outside = path.join(base, "outside");
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, "keep.txt"), "keep");

    const small = path.join(base, "small");
    await mkdir(path.join(small, "a/b"), { recursive: true });
    await writeFile(path.join(small, "a/b/file"), "x");
    await symlink(outside, path.join(small, "link-to-outside"));
    await removeTree(small);
    expect(existsSync(small)).toBe(false);

    const large = path.join(base, "large");
    for (let d = 0; d < 10; d++) {
      await mkdir(path.join(large, `d${d}`), { recursive: true });
      for (let f = 0; f < 40; f++) await writeFile(path.join(large, `d${d}`, `f${f}`), "x");
    }
    await symlink(outside, path.join(large, "d9", "link-to-outside"));
    await removeTree(large);
    expect(existsSync(large)).toBe(false);

    expect(await readFile(path.join(outside, "keep.txt"), "utf8")).toBe("keep");
    await removeTree(path.join(base, "never-existed"));
  });
});
