import { SERVICES, log, machineBusyCpuMs, processesCpuMs } from "./env";
import { cpuMs } from "./server";
import { sleep } from "./stats";

/** CPU used by processes other than the bench, the given server process and PostgreSQL/NATS. */
export class OthersCpu {
  private readonly start: { machine: number; bench: number; server: number; services: number };
  private readonly startedAt = Date.now();

  constructor(private readonly serverPid: number | null) {
    this.start = this.sample();
  }

  private sample() {
    const usage = process.cpuUsage();
    return {
      machine: machineBusyCpuMs(),
      bench: (usage.user + usage.system) / 1000,
      server: this.serverPid === null ? 0 : cpuMs(this.serverPid),
      services: processesCpuMs(SERVICES),
    };
  }

  /** Since construction: CPU ms of each part, and the other processes' share of one core. */
  read(): { bench: number; server: number; services: number; others: number; othersShareOfCore: number } {
    const now = this.sample();
    const bench = now.bench - this.start.bench;
    const server = now.server - this.start.server;
    const services = now.services - this.start.services;
    const others = Math.max(0, now.machine - this.start.machine - bench - server - services);
    const wall = Math.max(1, Date.now() - this.startedAt);
    return { bench, server, services, others, othersShareOfCore: others / wall };
  }
}

/**
 * Waits (up to BENCH_QUIET_WAIT_S seconds, 180 by default) until other processes use less than
 * 15 % of a core over two consecutive 2-second windows, so that a measurement starts on a quiet
 * machine. Returns the seconds waited and whether it got quiet.
 */
export async function waitForQuiet(serverPid: number | null): Promise<{ waitedS: number; quiet: boolean }> {
  const limitS = Number(process.env.BENCH_QUIET_WAIT_S ?? 180);
  if (!(limitS > 0)) return { waitedS: 0, quiet: false };
  const started = Date.now();
  let calm = 0;
  let announced = false;
  while (Date.now() - started < limitS * 1000) {
    const window = new OthersCpu(serverPid);
    await sleep(2000);
    const { othersShareOfCore } = window.read();
    calm = othersShareOfCore < 0.15 ? calm + 1 : 0;
    if (calm >= 2) return { waitedS: Math.round((Date.now() - started) / 1000), quiet: true };
    if (calm === 0 && !announced) {
      log(
        `other processes use ${Math.round(othersShareOfCore * 100)} % of a core: waiting for a quiet machine`,
      );
      announced = true;
    }
  }
  log(`the machine did not get quiet within ${limitS} s: measuring anyway`);
  return { waitedS: limitS, quiet: false };
}
