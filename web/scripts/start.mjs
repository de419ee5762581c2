#!/usr/bin/env node
// `npm start -w @sluice/web`: serves the built dashboard on WEB_HOST:WEB_PORT (default 127.0.0.1:3000).
// SLUICE_ENDPOINT (default http://localhost:4000/graphql) is read by the running app on each request.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const next = createRequire(import.meta.url).resolve("next/dist/bin/next");
const port = process.env.WEB_PORT || "3000";
// This host only unless configured: WEB_HOST, or SLUICE_HOST as for the server (0.0.0.0: every interface).
const host = process.env.WEB_HOST || process.env.SLUICE_HOST || "127.0.0.1";
const child = spawn(process.execPath, [next, "start", "-p", port, "-H", host], {
  cwd: dir,
  stdio: "inherit",
  env: { NEXT_TELEMETRY_DISABLED: "1", ...process.env },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
