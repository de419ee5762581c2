import path from "node:path";
import { ConfigError, loadConfig } from "./config";

describe("loadConfig", () => {
  it("fills every default", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      databaseUrl: undefined,
      natsUrl: ["nats://127.0.0.1:4222"],
      natsPrefix: "sluice",
      natsReplicas: 1,
      dataDir: path.resolve(".sluice/data"),
      adminToken: undefined,
      maxPipelines: 1000,
      development: false,
      host: "127.0.0.1",
      startupTimeoutMs: 30_000,
    });
  });

  it("listens on every interface only when configured; SLUICE_HOST wins over HOST", () => {
    expect(loadConfig({ HOST: "0.0.0.0" }).host).toBe("0.0.0.0");
    expect(loadConfig({ HOST: "0.0.0.0", SLUICE_HOST: "::1" }).host).toBe("::1");
    expect(loadConfig({ SLUICE_HOST: "" }).host).toBe("127.0.0.1");
  });

  it("reads every variable", () => {
    const config = loadConfig({
      PORT: "8080",
      DATABASE_URL: "postgres://u@db:5432/sluice",
      NATS_URL: "nats://a:4222, nats://b:4222",
      SLUICE_NATS_PREFIX: "ci_42",
      SLUICE_ADMIN_TOKEN: "0123456789abcdef",
      NODE_ENV: "development",
    });
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: "postgres://u@db:5432/sluice",
      natsUrl: ["nats://a:4222", "nats://b:4222"],
      natsPrefix: "ci_42",
      adminToken: "0123456789abcdef",
      development: true,
    });
  });

  it("a session's life: 12 hours unless SLUICE_SESSION_TTL says, in seconds, minutes, hours or days up to 7 days", () => {
    expect(loadConfig({}).sessionTtlMs).toBe(12 * 3600_000);
    expect(loadConfig({ SLUICE_SESSION_TTL: "" }).sessionTtlMs).toBe(12 * 3600_000);
    expect(loadConfig({ SLUICE_SESSION_TTL: "90" }).sessionTtlMs).toBe(90_000);
    expect(loadConfig({ SLUICE_SESSION_TTL: "30m" }).sessionTtlMs).toBe(30 * 60_000);
    expect(loadConfig({ SLUICE_SESSION_TTL: "2h" }).sessionTtlMs).toBe(2 * 3600_000);
    expect(loadConfig({ SLUICE_SESSION_TTL: "7d" }).sessionTtlMs).toBe(7 * 86400_000);
    for (const bad of ["0", "8d", "12 hours", "-1h", "1.5h"]) {
      expect(() => loadConfig({ SLUICE_SESSION_TTL: bad })).toThrow(
        `SLUICE_SESSION_TTL=${JSON.stringify(bad)} is invalid: expected a duration from 1s to 7d`,
      );
    }
  });

  it("NATS replicas: 1 or 3, nothing else", () => {
    expect(loadConfig({ SLUICE_NATS_REPLICAS: "3" }).natsReplicas).toBe(3);
    expect(loadConfig({ SLUICE_NATS_REPLICAS: "" }).natsReplicas).toBe(1);
    expect(() => loadConfig({ SLUICE_NATS_REPLICAS: "2" })).toThrow(
      /SLUICE_NATS_REPLICAS="2" is invalid: expected one of 1, 3/,
    );
  });

  it("treats empty values as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", SLUICE_ADMIN_TOKEN: "" })).toMatchObject({
      databaseUrl: undefined,
      adminToken: undefined,
    });
  });

  it("names every bad variable and what it expects, in one error", () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: "http",
        DATABASE_URL: "mysql://x",
        NATS_URL: "localhost",
        SLUICE_NATS_PREFIX: "a.b",
        SLUICE_ADMIN_TOKEN: "short",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join("\n");
    for (const name of ["PORT", "DATABASE_URL", "NATS_URL", "SLUICE_NATS_PREFIX", "SLUICE_ADMIN_TOKEN"]) {
      expect(problems).toContain(`${name}=`);
    }
    expect(problems).toMatch(/PORT="http" is invalid: expected a port number/);
    expect(problems).toMatch(/DATABASE_URL="mysql:\/\/x" is invalid: expected a postgres:\/\//);
  });

  it("a job's lease: six heartbeat intervals unless SLUICE_LEASE_SECONDS says, never under two", () => {
    expect(loadConfig({}).leaseSeconds).toBe(30);
    expect(loadConfig({ SLUICE_HEARTBEAT_INTERVAL_SECONDS: "2" }).leaseSeconds).toBe(12);
    expect(loadConfig({ SLUICE_LEASE_SECONDS: "30" }).leaseSeconds).toBe(30);
    expect(
      loadConfig({ SLUICE_LEASE_SECONDS: "4", SLUICE_HEARTBEAT_INTERVAL_SECONDS: "5" }).leaseSeconds,
    ).toBe(10);
    expect(() => loadConfig({ SLUICE_LEASE_SECONDS: "1" })).toThrow(/SLUICE_LEASE_SECONDS="1" is invalid/);
  });

  it("names the allowed values of an enum once, in words", () => {
    expect(() => loadConfig({ LOG_LEVEL: "loud", NODE_ENV: "prod" })).toThrow(
      expect.objectContaining({
        problems: [
          'NODE_ENV="prod" is invalid: expected one of development, production, test',
          'LOG_LEVEL="loud" is invalid: expected one of fatal, error, warn, info, debug, trace, silent',
        ],
      }),
    );
  });

  it("reads the log format, the metrics settings, and refuses what it does not know", () => {
    expect(loadConfig({})).toMatchObject({
      logFormat: "json",
      metrics: true,
      metricsPublic: false,
      metricsToken: undefined,
      refusalWindowMs: 60_000,
    });
    expect(loadConfig({ SLUICE_METRICS: "0", SLUICE_AUDIT_REFUSAL_WINDOW_SECONDS: "5" })).toMatchObject({
      metrics: false,
      refusalWindowMs: 5000,
    });
    expect(() => loadConfig({ SLUICE_METRICS: "off" })).toThrow(/SLUICE_METRICS="off" is invalid/);
    expect(() => loadConfig({ SLUICE_AUDIT_REFUSAL_WINDOW_SECONDS: "0" })).toThrow(
      /SLUICE_AUDIT_REFUSAL_WINDOW_SECONDS="0" is invalid/,
    );
    expect(
      loadConfig({ LOG_FORMAT: "pretty", SLUICE_METRICS_PUBLIC: "1", SLUICE_METRICS_TOKEN: "x".repeat(16) }),
    ).toMatchObject({ logFormat: "pretty", metricsPublic: true, metricsToken: "x".repeat(16) });
    expect(() => loadConfig({ LOG_FORMAT: "xml" })).toThrow(/LOG_FORMAT="xml" is invalid/);
    expect(() => loadConfig({ SLUICE_METRICS_TOKEN: "short" })).toThrow(
      /SLUICE_METRICS_TOKEN=\(hidden\) is invalid: expected at least 16 characters/,
    );
    // A bad token is still a secret: the message names the variable, never its value.
    expect(() => loadConfig({ SLUICE_ADMIN_TOKEN: "short-secret" })).not.toThrow(/short-secret/);
  });

  it("reads the retention settings, with per-pipeline exceptions as JSON, and refuses bad ones", () => {
    expect(loadConfig({}).retention).toEqual({
      executionDays: 90,
      maxExecutions: 0,
      pipelines: {},
      auditDays: 365,
      notificationDays: 30,
    });
    expect(
      loadConfig({
        SLUICE_RETENTION_DAYS: "0",
        SLUICE_RETENTION_MAX_EXECUTIONS: "20",
        SLUICE_RETENTION_PIPELINES: '{"web":{"days":7},"api":{"maxExecutions":5}}',
      }).retention,
    ).toMatchObject({
      executionDays: 0,
      maxExecutions: 20,
      pipelines: { web: { days: 7 }, api: { maxExecutions: 5 } },
    });
    expect(() => loadConfig({ SLUICE_RETENTION_DAYS: "-1" })).toThrow(
      /SLUICE_RETENTION_DAYS="-1" is invalid: expected a whole number of days, 0 to keep for ever/,
    );
    expect(() => loadConfig({ SLUICE_RETENTION_PIPELINES: "{web: 7}" })).toThrow(
      /SLUICE_RETENTION_PIPELINES=/,
    );
    expect(() => loadConfig({ SLUICE_RETENTION_PIPELINES: '{"web":{"weeks":1}}' })).toThrow(
      /SLUICE_RETENTION_PIPELINES=/,
    );
  });
});
