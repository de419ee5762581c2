#!/usr/bin/env node
// `npm run lint`: ESLint and Prettier over the project's files: what git tracks, and new files inside the
// project's folders, minus what .gitignore ignores. Files a user leaves at the root of the checkout (a
// pipeline saved while following the README) are not the project's and are not checked. Outside a git
// checkout (a tarball), everything under the root is, as `eslint .` and `prettier --check .` see it.
// `--print-files` prints the selection instead of checking it.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const ESLINT_EXTENSIONS = /\.(?:[cm]?js|jsx|[cm]?ts|tsx)$/;

/** The project's files under `root`, relative to it; null when `root` is not a git work tree. */
export function projectFiles(root) {
  const git = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (git.status !== 0) return null;
  const untracked = new Set(
    spawnSync("git", ["ls-files", "-z", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" })
      .stdout.split("\0")
      .filter(Boolean),
  );
  return [...new Set(git.stdout.split("\0").filter(Boolean))].filter(
    (file) =>
      !(untracked.has(file) && !file.includes("/")) && // a root file git does not know is the user's
      fs.existsSync(path.join(root, file)), // deleted but not yet staged
  );
}

function run(cmd, args, root) {
  const bin = path.join(root, "node_modules", ".bin", cmd);
  const res = spawnSync(fs.existsSync(bin) ? bin : cmd, args, { cwd: root, stdio: "inherit" });
  return res.status ?? 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = process.cwd();
  const files = projectFiles(root);
  if (process.argv.includes("--print-files")) {
    process.stdout.write((files ?? ["."]).join("\n") + "\n");
    process.exit(0);
  }
  const eslintFiles = files ? files.filter((f) => ESLINT_EXTENSIONS.test(f)) : ["."];
  const eslint = run("eslint", ["--max-warnings", "0", "--no-warn-ignored", "--", ...eslintFiles], root);
  const prettier = run(
    "prettier",
    ["--check", "--ignore-unknown", "--log-level", "warn", "--", ...(files ?? ["."])],
    root,
  );
  process.exit(eslint || prettier);
}
