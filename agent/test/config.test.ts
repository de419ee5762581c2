/** Options and environment: defaults, precedence, handlers, and one message naming every bad option. */
import os from "node:os";
import path from "node:path";
import { LIMITS, generateMessageSigningKey } from "@sluice/protocol";
import { defaultAgentName, parseConfig as parseConfigWith, parseTypeOption } from "../src/config";
import { BUILTIN_PROVIDER_IDS } from "../src/providers/registry";

/** These tests run on a NATS without authentication: SLUICE_NATS_INSECURE=1 unless they say otherwise. */
const parseConfig = (...[argv, env, defaults]: Parameters<typeof parseConfigWith>) =>
  parseConfigWith(argv, { SLUICE_NATS_INSECURE: "1", ...env }, defaults);

const TOKEN = "sat_0123456789abcdef";

describe("parseConfig", () => {
  it("serves metrics only when a port is given, on 127.0.0.1 unless told otherwise", () => {
    const off = parseConfig([], { SLUICE_AGENT_TOKEN: TOKEN }, BUILTIN_PROVIDER_IDS);
    expect(off.ok === true && off.config.metricsPort).toBe(undefined);
    const on = parseConfig(["--metrics-port", "9464"], { SLUICE_AGENT_TOKEN: TOKEN }, BUILTIN_PROVIDER_IDS);
    expect(on.ok === true && on.config).toMatchObject({ metricsPort: 9464, metricsHost: "127.0.0.1" });
    const env = parseConfig(
      [],
      { SLUICE_AGENT_TOKEN: TOKEN, SLUICE_AGENT_METRICS_PORT: "9100", SLUICE_AGENT_METRICS_HOST: "0.0.0.0" },
      BUILTIN_PROVIDER_IDS,
    );
    expect(env.ok === true && env.config).toMatchObject({ metricsPort: 9100, metricsHost: "0.0.0.0" });
    const bad = parseConfig(["--metrics-port", "70000"], { SLUICE_AGENT_TOKEN: TOKEN }, BUILTIN_PROVIDER_IDS);
    expect(bad.ok === false && bad.errors).toEqual([
      expect.stringContaining("--metrics-port (SLUICE_AGENT_METRICS_PORT): must be at most 65535"),
    ]);
  });

  it("fills in the documented defaults", () => {
    const result = parseConfig([], { SLUICE_AGENT_TOKEN: TOKEN }, BUILTIN_PROVIDER_IDS);
    expect(result.ok).toBe(true);
    if (result.ok !== true) return;
    expect(result.config).toMatchObject({
      natsServers: ["nats://127.0.0.1:4222"],
      token: TOKEN,
      name: defaultAgentName(),
      pool: "default",
      labels: {},
      providers: [...BUILTIN_PROVIDER_IDS],
      handlers: {},
      concurrency: 2,
      workDir: path.join(os.tmpdir(), "sluice-agent"),
      prefix: "sluice",
      drainTimeoutSeconds: 600,
      logCapBytes: LIMITS.logBytesPerAttempt,
    });
  });

  it("reads the environment, and flags win over it", () => {
    const result = parseConfig(
      ["--pool", "gpu", "--concurrency", "4"],
      {
        NATS_URL: "nats://a:4222, nats://b:4222",
        SLUICE_AGENT_TOKEN: TOKEN,
        SLUICE_AGENT_NAME: "host-1",
        SLUICE_AGENT_POOL: "ignored",
        SLUICE_AGENT_LABELS: "os=linux,arch=x64",
        SLUICE_AGENT_PROVIDERS: "Build/Sluice/Shell@1",
        SLUICE_AGENT_HANDLERS: "Build/Custom/WordCount@1=/usr/bin/wc-worker;Custom/Test/Lint@2=lint --json",
        SLUICE_AGENT_CONCURRENCY: "8",
        SLUICE_AGENT_WORK_DIR: "/var/tmp/sluice",
        SLUICE_NATS_PREFIX: "acme",
        SLUICE_AGENT_DRAIN_TIMEOUT_SECONDS: "30",
        SLUICE_AGENT_LOG_CAP_BYTES: "1048576",
      },
      BUILTIN_PROVIDER_IDS,
    );
    expect(result).toMatchObject({
      ok: true,
      config: {
        natsServers: ["nats://a:4222", "nats://b:4222"],
        name: "host-1",
        pool: "gpu",
        labels: { os: "linux", arch: "x64" },
        handlers: { "Build/Custom/WordCount@1": "/usr/bin/wc-worker", "Test/Custom/Lint@2": "lint --json" },
        concurrency: 4,
        workDir: "/var/tmp/sluice",
        prefix: "acme",
        drainTimeoutSeconds: 30,
        logCapBytes: 1048576,
      },
    });
    if (result.ok !== true) return;
    // Handlers' types are run too.
    expect(result.config.providers.map((p) => `${p.category}/${p.owner}/${p.provider}@${p.version}`)).toEqual(
      ["Build/Sluice/Shell@1", "Build/Custom/WordCount@1", "Test/Custom/Lint@2"],
    );
  });

  it("takes repeated --handler flags", () => {
    const result = parseConfig(
      ["--token", TOKEN, "--handler", "Build/Custom/A@1=run-a", "--handler", "Custom/Deploy/B@1=run-b"],
      {},
      BUILTIN_PROVIDER_IDS,
    );
    expect(result).toMatchObject({
      ok: true,
      config: { handlers: { "Build/Custom/A@1": "run-a", "Deploy/Custom/B@1": "run-b" } },
    });
  });

  it("names every bad option in one go, and never echoes the token", () => {
    const result = parseConfig(
      [
        "--concurrency",
        "300",
        "--pool",
        "a pool",
        "--labels",
        "novalue",
        "--providers",
        "Build/Sluice/Shell",
        "--handler",
        "Build/Sluice/Shell@1=x",
        "--prefix",
        "a.b",
        "--drain-timeout",
        "soon",
        "--log-cap-bytes",
        String(LIMITS.logBytesPerAttempt + 1),
        "--nats",
        "http://x",
      ],
      { SLUICE_AGENT_TOKEN: "short" },
      BUILTIN_PROVIDER_IDS,
    );
    expect(result.ok).toBe(false);
    if (result.ok !== false) return;
    const all = result.errors.join("\n");
    for (const source of [
      "--nats (NATS_URL)",
      "--token (SLUICE_AGENT_TOKEN)",
      "--pool (SLUICE_AGENT_POOL)",
      "--labels (SLUICE_AGENT_LABELS)",
      "--providers (SLUICE_AGENT_PROVIDERS)",
      "--handler (SLUICE_AGENT_HANDLERS)",
      "--concurrency (SLUICE_AGENT_CONCURRENCY)",
      "--prefix (SLUICE_NATS_PREFIX)",
      "--drain-timeout (SLUICE_AGENT_DRAIN_TIMEOUT_SECONDS)",
      "--log-cap-bytes (SLUICE_AGENT_LOG_CAP_BYTES)",
    ]) {
      expect(all).toContain(source);
    }
    expect(all).not.toContain("short");
  });

  it("reports an unknown flag", () => {
    expect(parseConfig(["--bogus"], { SLUICE_AGENT_TOKEN: TOKEN }, BUILTIN_PROVIDER_IDS)).toMatchObject({
      ok: false,
      errors: [expect.stringContaining("--bogus")],
    });
  });

  it("derives a valid agent name from any host name", () => {
    expect(defaultAgentName("build host#1.example.com")).toBe("build-host-1.example.com");
    expect(defaultAgentName("")).toBe("sluice-agent");
    expect(defaultAgentName("x".repeat(300))).toHaveLength(100);
  });

  it("reads action types in either owner order", () => {
    expect(parseTypeOption("Custom/Build/MyTool@1")).toEqual(parseTypeOption("Build/Custom/MyTool@1"));
    expect(() => parseTypeOption("Build/Shell@1")).toThrow(/Category\/Owner\/Provider@Version/);
  });
});

describe("NATS credentials", () => {
  it("needs the server's address, or SLUICE_NATS_INSECURE=1 for a NATS without authentication", () => {
    const none = parseConfigWith([], { SLUICE_AGENT_TOKEN: TOKEN }, BUILTIN_PROVIDER_IDS);
    expect(none).toMatchObject({ ok: false });
    expect(none.ok === false && none.errors.join("\n")).toMatch(
      /--server-url \(SLUICE_SERVER_URL\): is required/,
    );
    const insecure = parseConfigWith(
      [],
      { SLUICE_AGENT_TOKEN: TOKEN, SLUICE_NATS_INSECURE: "1" },
      BUILTIN_PROVIDER_IDS,
    );
    expect(insecure.ok === true && insecure.config.serverUrl).toBe(undefined);
    const secured = parseConfigWith(
      ["--server-url", "https://sluice.example.com"],
      { SLUICE_AGENT_TOKEN: TOKEN },
      BUILTIN_PROVIDER_IDS,
    );
    expect(secured.ok === true && secured.config.serverUrl).toBe("https://sluice.example.com");
    const fromEnv = parseConfigWith(
      [],
      { SLUICE_AGENT_TOKEN: TOKEN, SLUICE_SERVER_URL: "http://127.0.0.1:4000" },
      BUILTIN_PROVIDER_IDS,
    );
    expect(fromEnv.ok === true && fromEnv.config.serverUrl).toBe("http://127.0.0.1:4000");
    const tls = parseConfigWith(
      ["--server-url", "https://sluice.example.com", "--nats", "tls://nats.example:4222"],
      { SLUICE_AGENT_TOKEN: TOKEN, SLUICE_NATS_CA_FILE: "/etc/sluice/nats-ca.pem" },
      BUILTIN_PROVIDER_IDS,
    );
    expect(tls.ok === true && tls.config).toMatchObject({
      natsServers: ["tls://nats.example:4222"],
      natsCaFile: "/etc/sluice/nats-ca.pem",
    });
    const bad = parseConfigWith(
      ["--server-url", "ftp://x"],
      { SLUICE_AGENT_TOKEN: TOKEN },
      BUILTIN_PROVIDER_IDS,
    );
    expect(bad.ok === false && bad.errors.join("\n")).toMatch(
      /--server-url \(SLUICE_SERVER_URL\): must be an http/,
    );
  });

  it("pins the server's message keys with --server-key or SLUICE_SERVER_KEYS, refusing anything else", () => {
    const a = generateMessageSigningKey().publicKey;
    const b = generateMessageSigningKey().publicKey;
    const base = ["--server-url", "https://sluice.example.com"];
    const none = parseConfigWith(base, { SLUICE_AGENT_TOKEN: TOKEN }, BUILTIN_PROVIDER_IDS);
    expect(none.ok === true && none.config.serverKeys).toBe(undefined);
    const flag = parseConfigWith(
      [...base, "--server-key", `${a}, ${b}`],
      { SLUICE_AGENT_TOKEN: TOKEN },
      BUILTIN_PROVIDER_IDS,
    );
    expect(flag.ok === true && flag.config.serverKeys).toEqual([a, b]);
    const env = parseConfigWith(
      base,
      { SLUICE_AGENT_TOKEN: TOKEN, SLUICE_SERVER_KEYS: a },
      BUILTIN_PROVIDER_IDS,
    );
    expect(env.ok === true && env.config.serverKeys).toEqual([a]);
    const bad = parseConfigWith(
      [...base, "--server-key", "UABC"],
      { SLUICE_AGENT_TOKEN: TOKEN },
      BUILTIN_PROVIDER_IDS,
    );
    expect(bad.ok === false && bad.errors.join("\n")).toMatch(
      /--server-key \(SLUICE_SERVER_KEYS\): must be ed25519/,
    );
  });
});
