import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { UsageError } from "../src/errors";
import { parseJsonText, readCliInputJson } from "../src/input";

const noStdin = { readStdin: () => Promise.reject(new Error("stdin must not be read")) };

describe("readCliInputJson", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "sluice-cli-input-"));
    await writeFile(join(dir, "a.json"), '{ "name": "a", "stages": [] }\n');
    await writeFile(join(dir, "bom.json"), '\uFEFF{ "name": "bom" }');
    await writeFile(
      join(dir, "broken.json"),
      '{\n  "name": "a",\n  "stages": [\n    { "name": "s" }\n    { "name": "t" }\n  ]\n}\n',
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("reads inline JSON", async () => {
    await expect(readCliInputJson('{"name":"x"}', noStdin)).resolves.toEqual({ name: "x" });
  });

  it("reads file:// with an absolute path (file:///...)", async () => {
    await expect(readCliInputJson(`file://${join(dir, "a.json")}`, noStdin)).resolves.toEqual({
      name: "a",
      stages: [],
    });
  });

  it("reads file:// relative to the working directory", async () => {
    const rel = relative(process.cwd(), join(dir, "a.json"));
    expect(rel.startsWith("/")).toBe(false);
    await expect(readCliInputJson(`file://${rel}`, noStdin)).resolves.toEqual({ name: "a", stages: [] });
  });

  it("skips a UTF-8 byte order mark", async () => {
    await expect(readCliInputJson(`file://${join(dir, "bom.json")}`, noStdin)).resolves.toEqual({
      name: "bom",
    });
  });

  it("reads - from stdin", async () => {
    const stdin = { readStdin: () => Promise.resolve('  ["from", "stdin"]\n') };
    await expect(readCliInputJson("-", stdin)).resolves.toEqual(["from", "stdin"]);
  });

  it("names a missing file", async () => {
    const spec = `file://${join(dir, "missing.json")}`;
    await expect(readCliInputJson(spec, noStdin)).rejects.toThrow(
      new UsageError(`cannot read ${spec}: no such file`),
    );
  });

  it("names a directory given as a file", async () => {
    await expect(readCliInputJson(`file://${dir}`, noStdin)).rejects.toThrow(
      `cannot read file://${dir}: is a directory`,
    );
  });

  it("rejects file:// without a path", async () => {
    await expect(readCliInputJson("file://", noStdin)).rejects.toThrow("missing file path after file://");
  });

  it("names the file and the line/column of invalid JSON", async () => {
    const spec = `file://${join(dir, "broken.json")}`;
    const err = await readCliInputJson(spec, noStdin).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      `invalid JSON in ${spec} at line 5, column 5 (position 55): unexpected '{', expected ',' or ']' after an array element`,
    );
  });

  it("reports invalid JSON from stdin", async () => {
    const stdin = { readStdin: () => Promise.resolve('{"a": tru}') };
    await expect(readCliInputJson("-", stdin)).rejects.toThrow(
      "invalid JSON in stdin at line 1, column 10 (position 9): unexpected '}', expected 'true'",
    );
  });

  it("reports empty stdin", async () => {
    const stdin = { readStdin: () => Promise.resolve(" \n") };
    await expect(readCliInputJson("-", stdin)).rejects.toThrow("invalid JSON in stdin: the input is empty");
  });

  it("hints at file:// when the inline value looks like a path", async () => {
    await expect(readCliInputJson("a.json", noStdin)).rejects.toThrow(
      "invalid JSON in --cli-input-json at line 1, column 1 (position 0): unexpected 'a', expected a value " +
        "(to read a file, write --cli-input-json file://a.json)",
    );
  });

  it("gives no file:// hint for broken inline JSON", async () => {
    const err = (await readCliInputJson('{"name": }', noStdin).catch((e: unknown) => e)) as Error;
    expect(err.message).toBe(
      "invalid JSON in --cli-input-json at line 1, column 10 (position 9): unexpected '}', expected a value",
    );
  });
});

describe("parseJsonText", () => {
  it("returns what JSON.parse returns", () => {
    expect(parseJsonText('{"n": 1.5, "s": "\\u00e9"}', "x")).toEqual({ n: 1.5, s: "é" });
  });
});
