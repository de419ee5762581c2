/**
 * PROTOCOL.md and the code say the same thing: its examples decode, and its tables of streams,
 * consumers, names, failure types and refusals hold the values the code uses.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  FAILURES,
  FAILURE_CAUSES,
  FAILURE_TYPES,
  LEGACY_FAILURE_CODES,
  HEARTBEAT_REFUSALS,
  HEARTBEAT_REFUSAL_INFO,
  REFUSALS,
  REGISTER_REFUSALS,
  decode,
  engineConsumerConfig,
  jobConsumerConfig,
  messageSchemas,
  natsNames,
  streamConfigs,
  type ConsumerSettings,
  type MessageKind,
  type StreamKey,
  type StreamSettings,
} from "../src";
import { artifactKey } from "../src/names";
import { SHELL } from "./fixtures";

const doc = readFileSync(path.join(__dirname, "..", "PROTOCOL.md"), "utf8");

const cells = (line: string) =>
  line
    .slice(1, -1)
    .split("|")
    .map((cell) => cell.trim());

/** The rows of the markdown table whose header starts with these cells, as cells. */
function table(...header: string[]): string[][] {
  const lines = doc.split("\n");
  const start = lines.findIndex(
    (line) => line.startsWith("|") && header.every((cell, i) => cells(line)[i] === cell),
  );
  if (start < 0) throw new Error(`no table with the header ${header.join(" | ")}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith("|")) break;
    rows.push(cells(line));
  }
  return rows.filter((row) => !row.every((cell) => /^-+$/.test(cell)));
}

/** The doc writes the prefix as `<p>`; the code needs a real one. */
const P = "PFX";
const inDoc = (name: string) => name.replaceAll(P, "<p>");

const SECOND = 1e9;
function duration(ns: number): string {
  if (ns === 0) return "unlimited";
  const units: [number, string][] = [
    [86_400 * SECOND, "day"],
    [3600 * SECOND, "hour"],
    [60 * SECOND, "minute"],
  ];
  for (const [size, unit] of units) {
    if (ns % size === 0) return `${ns / size} ${unit}${ns / size === 1 ? "" : "s"}`;
  }
  return `${ns / SECOND} s`;
}
function size(bytes: number): string {
  if (bytes === -1) return "unlimited";
  for (const [unit, n] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ] as const) {
    if (bytes % n === 0) return `${bytes / n} ${unit}`;
  }
  return String(bytes);
}
const count = (n: number) => (n === -1 ? "unlimited" : n.toLocaleString("en-US"));
const code = (s: string) => `\`${s}\``;

describe("PROTOCOL.md examples", () => {
  const examples = [...doc.matchAll(/<!-- example: (\w+) -->\s*```json\n([\s\S]*?)```/g)].map(
    (m) => [m[1] as MessageKind, m[2] as string] as const,
  );

  it("show every kind of message", () => {
    expect(new Set(examples.map(([kind]) => kind))).toEqual(new Set(Object.keys(messageSchemas)));
  });

  it.each(examples)("the %s example decodes", (kind, json) => {
    const result = decode(kind, new TextEncoder().encode(json));
    expect(result.ok ? "ok" : result.error.message).toBe("ok");
  });
});

describe("PROTOCOL.md stream table (4.1)", () => {
  const rows = table("setting", "`<p>_JOBS`");
  const configs = streamConfigs(P);
  const columns = (rows[0] ?? []).slice(1).map((cell) => {
    const key = (Object.keys(configs) as StreamKey[]).find((k) => code(inDoc(configs[k].name)) === cell);
    if (!key) throw new Error(`unknown stream ${cell}`);
    return key;
  });
  const format: Record<string, (c: StreamSettings) => string> = {
    subjects: (c) => c.subjects.map((s) => code(inDoc(s))).join(", "),
    retention: (c) => code(c.retention),
    storage: (c) => code(c.storage),
    discard: (c) => code(c.discard),
    max_age: (c) => duration(c.max_age),
    max_bytes: (c) => size(c.max_bytes),
    max_msgs: (c) => count(c.max_msgs),
    max_msgs_per_subject: (c) => count(c.max_msgs_per_subject),
    max_msg_size: (c) => size(c.max_msg_size),
    duplicate_window: (c) => duration(c.duplicate_window),
    allow_direct: (c) => (c.allow_direct ? "yes" : "no"),
  };

  it("has a column for every stream", () => {
    expect(new Set(columns)).toEqual(new Set(Object.keys(configs)));
  });

  it("has a row for every setting but name, description and replicas", () => {
    const settings = Object.keys(configs.jobs).filter(
      (k) => !["name", "description", "num_replicas"].includes(k),
    );
    expect(new Set(rows.slice(1).map((row) => row[0]))).toEqual(new Set(settings));
  });

  it.each(Object.keys(format))("%s matches streams.ts", (setting) => {
    const row = rows.find((r) => r[0] === setting) ?? [];
    expect(row.slice(1)).toEqual(columns.map((key) => format[setting]?.(configs[key])));
  });
});

describe("PROTOCOL.md consumer table (4.2)", () => {
  const rows = table("setting", "`<p>_engine` on `<p>_RESULTS`");
  const consumers: ConsumerSettings[] = [engineConsumerConfig(P), jobConsumerConfig(P, "default", SHELL)];
  const format: Record<string, (c: ConsumerSettings) => string> = {
    deliver_policy: (c) => code(c.deliver_policy),
    ack_policy: (c) => code(c.ack_policy),
    ack_wait: (c) => duration(c.ack_wait),
    max_deliver: (c) => (c.max_deliver === -1 ? "unlimited (-1)" : String(c.max_deliver)),
    max_ack_pending: (c) => count(c.max_ack_pending),
    replay_policy: (c) => code(c.replay_policy),
  };

  it.each(Object.keys(format))("%s matches streams.ts", (setting) => {
    const row = rows.find((r) => r[0] === setting) ?? [];
    expect(row.slice(1)).toEqual(consumers.map((c) => format[setting]?.(c)));
  });

  it("names the engine consumer", () => {
    expect(rows.find((r) => r[0] === "durable_name")?.[1]).toBe(code(inDoc(natsNames(P).consumers.engine)));
  });
});

describe("PROTOCOL.md names table (3.3)", () => {
  const n = natsNames(P);
  const fixed = [
    ...Object.values(n.streams),
    ...Object.values(n.wildcards),
    n.consumers.engine,
    n.queueGroup,
    n.artifactsBucket,
    n.subjects.accept,
    n.subjects.heartbeat,
    n.subjects.complete,
    n.subjects.register,
    n.subjects.agentHeartbeat,
  ];

  it.each(fixed.map(inDoc))("mentions %s", (name) => {
    expect(doc).toContain(code(name));
  });

  it("writes the parameterised names as the code builds them", () => {
    const rows = table("what", "name", "kind");
    const names = rows.map((r) => r[1]);
    expect(names).toEqual(
      expect.arrayContaining([
        code("<p>.jobs.<pool>.<category>.<owner>.<provider>.<version>"),
        code("<p>.logs.<jobId>"),
        code("<p>.cancel.<jobId>"),
        code("<p>.agents.<agentId>.cancel"),
        code("<p>.events.<pipeline>"),
        code("<executionId>/<jobId>/<attempt>/<artifactName>"),
      ]),
    );
    expect(artifactKey("E", "J", 3, "A")).toBe("E/J/3/A");
    // and the code puts each parameter where the doc says
    expect(inDoc(n.subjects.job("POOL", { ...SHELL, provider: "PROVIDER", version: "VERSION" }))).toBe(
      "<p>.jobs.POOL.Build.Sluice.PROVIDER.VERSION",
    );
    expect(inDoc(n.subjects.agentCancel("AGENT"))).toBe("<p>.agents.AGENT.cancel");
  });
});

describe("PROTOCOL.md failure tables", () => {
  it("lists every failure type with the retryable flag of failures.ts (8)", () => {
    const rows = table("failureType", "retryable", "when").slice(1);
    expect(rows.map((r) => [r[0], r[1]])).toEqual(
      FAILURE_TYPES.map((type) => [code(type), FAILURES[type].retryable ? "yes" : "no"]),
    );
  });

  it("lists every failure cause with the earlier codes that meant it (8.1)", () => {
    const rows = table("failureCause", "earlier code", "when").slice(1);
    expect(rows.map((row) => row[0])).toEqual(FAILURE_CAUSES.map(code));
    for (const [legacy, cause] of Object.entries(LEGACY_FAILURE_CODES))
      expect(rows.find((row) => row[0] === code(cause))?.[1]).toContain(code(legacy));
  });

  it("lists every registration refusal; only Unavailable is retried (5.7)", () => {
    const rows = table("code", "meaning", "agent's response").slice(1);
    expect(rows.map((r) => r[0])).toEqual(REGISTER_REFUSALS.map(code));
    for (const row of rows) {
      const refusal = REFUSALS[(row[0] ?? "").slice(1, -1) as keyof typeof REFUSALS];
      expect(row[2]?.startsWith("retry")).toBe(refusal.retryable);
    }
  });

  it("lists every heartbeat refusal with the response of failures.ts (5.8)", () => {
    const rows = table("heartbeat refusal", "meaning", "agent's response").slice(1);
    expect(rows.map((r) => [r[0], r[2]])).toEqual(
      HEARTBEAT_REFUSALS.map((c) => [code(c), HEARTBEAT_REFUSAL_INFO[c].response]),
    );
  });
});
