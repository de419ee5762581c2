import { execFile } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** PostgreSQL's programs: on PATH, or where Debian puts them. */
const BIN_DIRS = ["/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin"];

function binary(name: string): string {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter).concat(BIN_DIRS)) {
    const candidate = path.join(dir, name);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} is not installed (looked on PATH and in ${BIN_DIRS.join(", ")})`);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A PostgreSQL cluster of the test's own, in a temporary directory, that the test may stop and
 * start (the shared one must never be touched). PostgreSQL refuses to run as root: as root, its
 * programs run as the `postgres` OS user, which owns the directory.
 */
export class PrivatePostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly asPostgres: boolean,
  ) {}

  /** postgres://postgres@127.0.0.1:<port>/postgres (trust authentication). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get dataDir(): string {
    return path.join(this.dir, "data");
  }

  /** initdb into a new temporary directory, then start it on a free port. */
  static async create(): Promise<PrivatePostgres> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-pg-"));
    const asPostgres = process.getuid?.() === 0;
    if (asPostgres) {
      const { stdout } = await run("id", ["-u", "postgres"]);
      const { stdout: gid } = await run("id", ["-g", "postgres"]);
      fs.chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    const pg = new PrivatePostgres(dir, await freePort(), asPostgres);
    try {
      await pg.exec("initdb", [
        "-D",
        pg.dataDir,
        "-U",
        "postgres",
        "--auth=trust",
        "--no-sync",
        "-E",
        "UTF8",
      ]);
      await pg.start();
    } catch (error) {
      await pg.destroy();
      throw error;
    }
    return pg;
  }

  /** Starts the cluster and waits until it accepts connections. */
  async start(): Promise<void> {
    await this.exec("pg_ctl", [
      "-D",
      this.dataDir,
      "-o",
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      "-l",
      path.join(this.dir, "log"),
      "start",
      "-w",
      "-t",
      "30",
    ]);
  }

  /** `pg_ctl stop -m fast`: ends every session at once and shuts down cleanly. */
  async stop(mode: "fast" | "immediate" = "fast"): Promise<void> {
    await this.exec("pg_ctl", ["-D", this.dataDir, "stop", "-m", mode, "-w", "-t", "30"]);
  }

  /**
   * SIGSTOPs the cluster's processes (the postmaster and its children): connections stay open and
   * new ones are accepted by the kernel, but nothing answers. `thaw()` SIGCONTs them.
   */
  async freeze(): Promise<void> {
    for (const pid of await this.pids()) process.kill(pid, "SIGSTOP");
  }

  async thaw(): Promise<void> {
    for (const pid of await this.pids()) process.kill(pid, "SIGCONT");
  }

  /** The postmaster (from postmaster.pid) and its children: this cluster's processes only. */
  private async pids(): Promise<number[]> {
    const postmaster = Number(
      fs.readFileSync(path.join(this.dataDir, "postmaster.pid"), "utf8").split("\n")[0],
    );
    const { stdout } = await run("ps", ["-o", "pid=", "--ppid", String(postmaster)]).catch(() => ({
      stdout: "",
    }));
    return [postmaster, ...stdout.split(/\s+/).filter(Boolean).map(Number)];
  }

  /** Stops the cluster if it runs and removes its directory. */
  async destroy(): Promise<void> {
    if (fs.existsSync(path.join(this.dataDir, "postmaster.pid"))) {
      await this.stop("immediate").catch(() => undefined);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** The server log, for a failing test's message. */
  log(): string {
    try {
      return fs.readFileSync(path.join(this.dir, "log"), "utf8");
    } catch {
      return "";
    }
  }

  private async exec(program: string, args: string[]): Promise<void> {
    const [file, argv] = this.asPostgres
      ? ["runuser", ["-u", "postgres", "--", binary(program), ...args]]
      : [binary(program), args];
    try {
      await run(file, argv, { cwd: this.dir, timeout: 60_000 });
    } catch (error) {
      const e = error as Error & { stdout?: string; stderr?: string };
      throw new Error(
        `${program} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`,
        { cause: error },
      );
    }
  }
}
