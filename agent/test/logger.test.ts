/**
 * The agent's own log, from the built agent as operators run it: ISO 8601 times like the server's,
 * tokens redacted, and LOG_FORMAT=pretty readable lines.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";

const AGENT_DIR = path.resolve(__dirname, "..");

beforeAll(() => {
  const build = spawnSync(
    process.execPath,
    [require.resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    {
      cwd: AGENT_DIR,
      encoding: "utf8",
    },
  );
  if (build.status !== 0) throw new Error(`building the agent failed:\n${build.stdout}${build.stderr}`);
}, 60_000);

function logWith(format: string): string {
  const script = `require("./dist/src/logger").createLogger("info", ${JSON.stringify(format)})
    .info({ token: "sat_secret_token_value", pool: "default" }, "registered");`;
  const run = spawnSync(process.execPath, ["-e", script], { cwd: AGENT_DIR, encoding: "utf8" });
  expect(run.status).toBe(0);
  return run.stderr;
}

it("writes JSON lines with ISO 8601 times and no token", () => {
  const line = JSON.parse(logWith("json").trim()) as Record<string, unknown>;
  expect(String(line.time)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(line).toMatchObject({
    msg: "registered",
    name: "sluice-agent",
    token: "[redacted]",
    pool: "default",
  });
});

it("LOG_FORMAT=pretty writes readable lines, still without the token", () => {
  const text = logWith("pretty");
  expect(text).toContain("registered");
  expect(text.trim().startsWith("{")).toBe(false);
  expect(text).not.toContain("sat_secret_token_value");
});
