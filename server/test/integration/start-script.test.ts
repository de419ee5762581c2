/**
 * `npm start` (scripts/start.mjs) when a port it needs is in use: one line naming the port and
 * the variable that sets it, exit 1, and neither the server nor the dashboard is started, so no
 * ready banner.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..", "..");

async function startWithTaken(which: "PORT" | "WEB_PORT") {
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const port = (taken.address() as net.AddressInfo).port;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-start-script-"));
  try {
    const child = spawn(process.execPath, [path.join(ROOT, "scripts", "start.mjs")], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? dir,
        PORT: which === "PORT" ? String(port) : "0",
        WEB_PORT: which === "WEB_PORT" ? String(port) : "0",
        NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222",
        SLUICE_NATS_INSECURE: "1",
        SLUICE_DATA_DIR: path.join(dir, "data"),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    return { code, out, port };
  } finally {
    await new Promise((resolve) => taken.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

it.each([
  ["PORT", "the server"],
  ["WEB_PORT", "the dashboard"],
] as const)(
  "a %s in use: one line, exit 1, nothing started",
  async (variable, what) => {
    const { code, out, port } = await startWithTaken(variable);
    expect(code).toBe(1);
    const said = out.split("\n").filter((l) => l.includes("cannot start"));
    expect(said).toEqual([
      `[sluice] cannot start ${what}: port ${port} on 127.0.0.1 is already in use (set ${variable}, or stop what uses it)`,
    ]);
    expect(out).not.toContain("starting the server");
    expect(out).not.toContain("GraphQL:");
  },
  180_000,
);
