import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, loadConfig } from "./config";
import { parseGroupMap } from "./oidc-config";

const SSO = {
  SLUICE_OIDC_ISSUER: "https://login.example.com/realms/acme",
  SLUICE_OIDC_CLIENT_ID: "sluice",
  SLUICE_OIDC_CLIENT_SECRET: "very-secret-value-123",
};

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

describe("single sign-on settings", () => {
  it("are off by default; sessions last 12 hours", () => {
    const config = loadConfig({});
    expect(config.oidc).toBeNull();
    expect(config.sessionTtlMs).toBe(12 * 3600_000);
  });

  it("read every variable, with defaults for scopes, groups claim and label", () => {
    expect(loadConfig(SSO).oidc).toEqual({
      issuer: SSO.SLUICE_OIDC_ISSUER,
      clientId: "sluice",
      clientSecret: "very-secret-value-123",
      scopes: "openid profile email",
      groupsClaim: "groups",
      groupMap: new Map(),
      buttonLabel: "Sign in with SSO",
    });
    const config = loadConfig({
      ...SSO,
      SLUICE_OIDC_SCOPES: "openid  groups",
      SLUICE_OIDC_GROUPS_CLAIM: "roles",
      SLUICE_OIDC_GROUP_MAP: "idp-admins=Admins, devs=Developers,devs=Readers",
      SLUICE_OIDC_BUTTON_LABEL: "Sign in with Acme",
      SLUICE_SESSION_TTL: "30m",
    });
    expect(config.oidc).toMatchObject({
      scopes: "openid groups",
      groupsClaim: "roles",
      buttonLabel: "Sign in with Acme",
      groupMap: new Map([
        ["idp-admins", ["Admins"]],
        ["devs", ["Developers", "Readers"]],
      ]),
    });
    expect(config.sessionTtlMs).toBe(30 * 60_000);
  });

  it("read the client secret from a file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-oidc-config-"));
    const file = path.join(dir, "secret");
    fs.writeFileSync(file, "from-a-file\n");
    try {
      const { SLUICE_OIDC_CLIENT_SECRET: _, ...rest } = SSO;
      expect(loadConfig({ ...rest, SLUICE_OIDC_CLIENT_SECRET_FILE: file }).oidc?.clientSecret).toBe(
        "from-a-file",
      );
      expect(problemsOf({ ...rest, SLUICE_OIDC_CLIENT_SECRET_FILE: path.join(dir, "none") })).toEqual([
        `SLUICE_OIDC_CLIENT_SECRET_FILE ${path.join(dir, "none")} cannot be read: ENOENT`,
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuse a bad configuration at start-up, naming each problem and never the secret", () => {
    const problems = problemsOf({
      SLUICE_OIDC_ISSUER: "http://login.example.com",
      SLUICE_OIDC_CLIENT_SECRET: "very-secret-value-123",
      SLUICE_OIDC_CLIENT_SECRET_FILE: "/run/secrets/oidc",
      SLUICE_OIDC_SCOPES: "profile email",
      SLUICE_OIDC_GROUP_MAP: "admins,devs=bad/name",
    });
    expect(problems).toEqual([
      expect.stringMatching(
        /^SLUICE_OIDC_ISSUER="http:\/\/login.example.com" is invalid: expected the provider's https URL/,
      ),
      "SLUICE_OIDC_CLIENT_ID is missing: single sign-on needs the client id",
      "SLUICE_OIDC_CLIENT_SECRET and SLUICE_OIDC_CLIENT_SECRET_FILE are both set: give one",
      expect.stringMatching(/^SLUICE_OIDC_SCOPES="profile email" is invalid/),
      expect.stringMatching(/^SLUICE_OIDC_GROUP_MAP entry "admins" is invalid/),
      expect.stringMatching(/^SLUICE_OIDC_GROUP_MAP entry "devs=bad\/name" is invalid/),
    ]);
    expect(problems.join("\n")).not.toContain("very-secret-value-123");
    expect(problemsOf({ SLUICE_OIDC_CLIENT_ID: "sluice" })).toEqual([
      "SLUICE_OIDC_CLIENT_ID set without SLUICE_OIDC_ISSUER: single sign-on needs the issuer URL",
    ]);
    const { SLUICE_OIDC_CLIENT_SECRET: _, ...noSecret } = SSO;
    expect(problemsOf(noSecret)).toEqual([
      "SLUICE_OIDC_CLIENT_SECRET (or SLUICE_OIDC_CLIENT_SECRET_FILE) is missing: single sign-on needs the client secret",
    ]);
  });

  it("accept http only for a provider on a loopback address", () => {
    for (const issuer of ["http://127.0.0.1:8080", "http://localhost:8080/realms/x", "http://[::1]:9000"])
      expect(loadConfig({ ...SSO, SLUICE_OIDC_ISSUER: issuer }).oidc?.issuer).toBe(issuer);
  });

  it("parse group maps", () => {
    expect(parseGroupMap("a=b=C").map).toEqual(new Map([["a=b", ["C"]]]));
  });
});
