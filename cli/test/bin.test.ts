/**
 * `npx sluice` from the repository root, as the README writes it: npm links a workspace's bin only when
 * its file exists at install time, so the bin must be a committed file, not the build output.
 */
import { execFile, execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.join(__dirname, "..", "..");
const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "package.json"), "utf8")) as {
  bin: { sluice: string };
};

describe("the sluice bin", () => {
  it("is a file in git, so that `npm ci` links it before any build", () => {
    const tracked = execFileSync("git", ["ls-files", "--error-unmatch", pkg.bin.sluice], {
      cwd: path.join(__dirname, ".."),
      encoding: "utf8",
    });
    expect(tracked.trim()).toBe(pkg.bin.sluice);
    expect(fs.statSync(path.join(__dirname, "..", pkg.bin.sluice)).mode & 0o111).not.toBe(0);
  });

  it("runs as `npx sluice` from the repository root", async () => {
    const { stdout } = await promisify(execFile)("npx", ["--no-install", "sluice", "--help"], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "" },
    });
    expect(stdout).toContain("Usage: sluice");
  });
});
