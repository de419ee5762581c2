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
      dataDir: path.resolve(".sluice/data"),
      adminToken: undefined,
      maxPipelines: 1000,
      development: false,
    });
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
});
