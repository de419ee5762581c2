import fs from "node:fs";
import net from "node:net";
import { IDENTITY_NAME } from "./auth/identity-service";

/**
 * OpenID Connect single sign-on (auth/oidc-sign-in.ts), read from the environment by config.ts.
 * SSO is on when SLUICE_OIDC_ISSUER is set; then SLUICE_OIDC_CLIENT_ID and a client secret are
 * required. The secret is never part of an error message.
 */
export interface OidcSettings {
  /** The provider's issuer URL: https, or http on a loopback address only (a provider on this host). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Space-separated; always holds `openid`. */
  scopes: string;
  /** The claim (ID token, else userinfo) listing the user's groups at the provider. */
  groupsClaim: string;
  /** A provider group → the Sluice groups its members join (SLUICE_OIDC_GROUP_MAP). */
  groupMap: ReadonlyMap<string, readonly string[]>;
  /** The sign-in page's button. */
  buttonLabel: string;
}

/** The sessions' life, SLUICE_SESSION_TTL, is read with the other settings (config.ts). */
export interface SignInSettings {
  oidc: OidcSettings | null;
}

/** `idp-admins=Admins,devs=Developers,devs=Readers` → its map; the problems of a bad entry. */
export function parseGroupMap(value: string): { map: Map<string, string[]>; problems: string[] } {
  const map = new Map<string, string[]>();
  const problems: string[] = [];
  for (const entry of value.split(",")) {
    if (entry.trim() === "") continue;
    const equals = entry.lastIndexOf("=");
    const claim = entry.slice(0, equals).trim();
    const group = entry.slice(equals + 1).trim();
    if (equals < 0 || claim === "" || !IDENTITY_NAME.test(group)) {
      problems.push(
        `SLUICE_OIDC_GROUP_MAP entry ${JSON.stringify(entry.trim().slice(0, 80))} is invalid: expected <provider group>=<Sluice group name>, e.g. idp-admins=Admins`,
      );
      continue;
    }
    map.set(claim, [...new Set([...(map.get(claim) ?? []), group])]);
  }
  return { map, problems };
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost") return true;
  if (net.isIPv4(host)) return host.startsWith("127.");
  return host === "::1";
}

const blank = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value);

/** The sign-in settings, or the problems (one sentence each, no secret in any). */
export function readSignInSettings(env: Record<string, string | undefined>): {
  settings: SignInSettings;
  problems: string[];
} {
  const problems: string[] = [];
  const issuer = blank(env.SLUICE_OIDC_ISSUER);
  const others = [
    "SLUICE_OIDC_CLIENT_ID",
    "SLUICE_OIDC_CLIENT_SECRET",
    "SLUICE_OIDC_CLIENT_SECRET_FILE",
    "SLUICE_OIDC_SCOPES",
    "SLUICE_OIDC_GROUPS_CLAIM",
    "SLUICE_OIDC_GROUP_MAP",
    "SLUICE_OIDC_BUTTON_LABEL",
  ].filter((name) => blank(env[name]) !== undefined);
  if (issuer === undefined) {
    if (others.length > 0)
      problems.push(
        `${others.join(", ")} set without SLUICE_OIDC_ISSUER: single sign-on needs the issuer URL`,
      );
    return { settings: { oidc: null }, problems };
  }

  const issuerUrl = URL.canParse(issuer) ? new URL(issuer) : null;
  if (
    !issuerUrl ||
    !(issuerUrl.protocol === "https:" || (issuerUrl.protocol === "http:" && isLoopback(issuerUrl.hostname)))
  ) {
    problems.push(
      `SLUICE_OIDC_ISSUER=${JSON.stringify(issuer)} is invalid: expected the provider's https URL (http only on a loopback address), e.g. https://login.example.com/realms/acme`,
    );
  }

  const clientId = blank(env.SLUICE_OIDC_CLIENT_ID);
  if (clientId === undefined)
    problems.push("SLUICE_OIDC_CLIENT_ID is missing: single sign-on needs the client id");

  const secretValue = blank(env.SLUICE_OIDC_CLIENT_SECRET);
  const secretFile = blank(env.SLUICE_OIDC_CLIENT_SECRET_FILE);
  let clientSecret: string | undefined;
  if (secretValue !== undefined && secretFile !== undefined) {
    problems.push("SLUICE_OIDC_CLIENT_SECRET and SLUICE_OIDC_CLIENT_SECRET_FILE are both set: give one");
  } else if (secretFile !== undefined) {
    try {
      clientSecret = fs.readFileSync(secretFile, "utf8").trim();
      if (clientSecret === "") problems.push(`SLUICE_OIDC_CLIENT_SECRET_FILE ${secretFile} is empty`);
    } catch (error) {
      problems.push(
        `SLUICE_OIDC_CLIENT_SECRET_FILE ${secretFile} cannot be read: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
      );
    }
  } else if (secretValue !== undefined) {
    clientSecret = secretValue.trim();
  } else {
    problems.push(
      "SLUICE_OIDC_CLIENT_SECRET (or SLUICE_OIDC_CLIENT_SECRET_FILE) is missing: single sign-on needs the client secret",
    );
  }

  const scopes = (blank(env.SLUICE_OIDC_SCOPES) ?? "openid profile email").trim().split(/\s+/);
  if (!scopes.includes("openid"))
    problems.push(
      `SLUICE_OIDC_SCOPES=${JSON.stringify(scopes.join(" "))} is invalid: expected space-separated scopes including openid`,
    );

  const groupsClaim = (blank(env.SLUICE_OIDC_GROUPS_CLAIM) ?? "groups").trim();
  const { map: groupMap, problems: mapProblems } = parseGroupMap(env.SLUICE_OIDC_GROUP_MAP ?? "");
  problems.push(...mapProblems);
  const buttonLabel = (blank(env.SLUICE_OIDC_BUTTON_LABEL) ?? "Sign in with SSO").trim().slice(0, 80);

  if (problems.length > 0 || !issuerUrl || clientId === undefined || clientSecret === undefined)
    return { settings: { oidc: null }, problems };
  return {
    settings: {
      oidc: {
        issuer,
        clientId,
        clientSecret,
        scopes: scopes.join(" "),
        groupsClaim,
        groupMap,
        buttonLabel,
      },
    },
    problems,
  };
}
