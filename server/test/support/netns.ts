import { execFileSync } from "node:child_process";
import crypto from "node:crypto";

/**
 * A network namespace joined to this host by one veth pair: the host side gets 10.213.N.1, the
 * namespace 10.213.N.2, and nothing else is routed. A process started in it (`wrap(argv)`) reaches
 * only what listens on the host side's address: not 127.0.0.1 of the host, not the internet.
 */
export interface NetworkNamespace {
  name: string;
  hostAddress: string;
  innerAddress: string;
  /** The argv that runs `argv` inside the namespace. */
  wrap(argv: string[]): string[];
  destroy(): void;
}

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" }).toString();

/** Whether this machine lets the test create namespaces (root and iproute2). */
export function canCreateNetns(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    ip("netns", "list");
    return true;
  } catch {
    return false;
  }
}

export function createNetns(): NetworkNamespace {
  const id = crypto.randomBytes(3).toString("hex");
  const subnet = 1 + (parseInt(id.slice(0, 2), 16) % 250);
  const name = `sluice-${id}`;
  const hostSide = `sh${id}`;
  const innerSide = `sn${id}`;
  const hostAddress = `10.213.${subnet}.1`;
  const innerAddress = `10.213.${subnet}.2`;
  ip("netns", "add", name);
  try {
    ip("link", "add", hostSide, "type", "veth", "peer", "name", innerSide);
    ip("link", "set", innerSide, "netns", name);
    ip("addr", "add", `${hostAddress}/30`, "dev", hostSide);
    ip("link", "set", hostSide, "up");
    ip("netns", "exec", name, "ip", "addr", "add", `${innerAddress}/30`, "dev", innerSide);
    ip("netns", "exec", name, "ip", "link", "set", innerSide, "up");
    ip("netns", "exec", name, "ip", "link", "set", "lo", "up");
  } catch (error) {
    ip("netns", "del", name);
    throw error;
  }
  return {
    name,
    hostAddress,
    innerAddress,
    wrap: (argv) => ["ip", "netns", "exec", name, ...argv],
    destroy() {
      try {
        ip("link", "del", hostSide);
      } catch {
        // gone with the namespace already
      }
      ip("netns", "del", name);
    },
  };
}
