import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** The local services the benchmarks use; the same variables and defaults as the server and tests. */
export const DATABASE_URL = process.env.DATABASE_URL || "postgres://postgres@127.0.0.1:5432/postgres";
export const NATS_URL = process.env.NATS_URL || "nats://127.0.0.1:4222";

/** The admin token every benchmark's server gets (its own, never a real installation's). */
export const BENCH_TOKEN = `bench-${crypto.randomBytes(12).toString("hex")}`;

/** A NATS prefix of the run's own: `bench_<random>`. */
export function natsPrefix(): string {
  return `bench_${crypto.randomBytes(4).toString("hex")}`;
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "sluice-bench-"));
}

/** What the figures were measured on. */
export interface MachineFacts {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  openFilesLimit: number | null;
  /** Load averages (1, 5, 15 minutes) when the scenario started: other work on the machine skews figures. */
  loadAverage: number[];
}

export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    openFilesLimit: openFilesLimit(),
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** The soft limit on open files of this process (its children inherit it), from /proc. */
export function openFilesLimit(): number | null {
  try {
    const line = fs
      .readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    const soft = line?.split(/\s{2,}/)[1];
    if (soft === undefined) return null;
    return soft === "unlimited" ? Number.POSITIVE_INFINITY : Number(soft);
  } catch {
    return null;
  }
}

/** CPU time every process on the machine has used (busy time over all cores), in ms, from /proc/stat. */
export function machineBusyCpuMs(): number {
  const fields = fs
    .readFileSync("/proc/stat", "utf8")
    .split("\n")[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ is 100 on Linux
}

/** CPU time (ms) used so far by the live processes whose command name matches, from /proc/<pid>/stat. */
export function processesCpuMs(names: RegExp): number {
  let total = 0;
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (!names.test(comm)) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

/** PostgreSQL's and NATS's processes: part of what a change costs, not outside noise. */
export const SERVICES = /^(postgres|postmaster|nats-server)$/;

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
