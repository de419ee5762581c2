/**
 * Which addresses a notification may go to. By default only public unicast addresses: a target
 * must not make the server reach its own host, the cloud's metadata service or the private network
 * it sits on (server-side request forgery). SLUICE_NOTIFY_ALLOW_PRIVATE=true lifts this for
 * installations whose receivers live on their own network.
 */
import ipaddr from "ipaddr.js";

/** The range name of a non-public address (`loopback`, `private`, `linkLocal`…), null for a public one. */
export function nonPublicRange(address: string): string | null {
  if (!ipaddr.isValid(address)) return "invalid";
  let parsed = ipaddr.parse(address);
  // ::ffff:10.0.0.1 is 10.0.0.1.
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  }
  const range = parsed.range();
  return range === "unicast" ? null : range;
}

/** Host names that name this host whatever DNS says. */
const LOCAL_NAMES = /^(localhost|localhost\.localdomain|ip6-localhost|ip6-loopback)$|\.localhost$/i;

/**
 * Why a URL's host is refused at save time (an address literal in a non-public range, or a local
 * name), or null. A name is checked again, resolved, on each attempt (transports.ts).
 */
export function hostProblem(hostname: string): string | null {
  const host = hostname.replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  if (LOCAL_NAMES.test(host)) return "names this host";
  if (ipaddr.isValid(host)) {
    const range = nonPublicRange(host);
    if (range) return `is a ${describeRange(range)} address`;
  }
  return null;
}

export function describeRange(range: string): string {
  const words: Record<string, string> = {
    loopback: "loopback",
    private: "private",
    linkLocal: "link-local",
    uniqueLocal: "private (unique local)",
    carrierGradeNat: "carrier-grade NAT",
    unspecified: "unspecified",
    broadcast: "broadcast",
    multicast: "multicast",
    reserved: "reserved",
  };
  return words[range] ?? `non-public (${range})`;
}
