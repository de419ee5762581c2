import crypto from "node:crypto";
import type * as OpenIdClient from "openid-client" with { "resolution-mode": "import" };
import { DomainError } from "../domain/errors";
import type { Logger } from "../logger";
import type { OidcSettings } from "../oidc-config";
import { PendingAudit, type AuditStore, type NewAuditEvent } from "../persistence/audit-store";
import type { IdentityStore } from "../persistence/identity-store";
import type { OidcIdentity, OidcStore } from "../persistence/oidc-store";
import type { Authenticator } from "./authenticate";
import { IDENTITY_NAME } from "./identity-service";

type Client = typeof OpenIdClient;
type Configuration = OpenIdClient.Configuration;

/** openid-client is ESM only: loaded with import() from this CommonJS build (STACK.md). */
const loadClient = (): Promise<Client> => import("openid-client");

/** How long a sign-in may take between /auth/oidc/start and the callback. */
export const FLOW_TTL_MS = 10 * 60_000;
export const SESSION_DESCRIPTION = "dashboard session (SSO)";
export const START_PATH = "/auth/oidc/start";
export const CALLBACK_PATH = "/auth/oidc/callback";
const COOKIE_PREFIX = "sluice_oidc_";
/** The audit log's name of a sign-in (done, or refused with its reason). */
export const SIGN_IN_OPERATION = "oidcSignIn";

/** A sign-in refused: `message` is for the person signing in (no secret, no stack). */
export class SignInRefused extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "SignInRefused";
  }
}

const sha256 = (value: string) => crypto.createHash("sha256").update(value).digest();
/** The PKCE verifier, derived from the browser's binding secret: nothing secret is stored. */
const verifierOf = (binding: string) =>
  crypto.createHmac("sha256", binding).update("sluice pkce code verifier").digest("base64url");

/** A path of the dashboard to come back to; anything else (another site, `//host`, `/\host`) is `/`. */
export function safeNext(value: unknown): string {
  if (typeof value !== "string" || value.length > 2000) return "/";
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return "/";
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return "/";
  return value;
}

/** The cookie binding a flow to the browser that started it, one per flow (tabs may sign in at once). */
export const flowCookieName = (state: string) =>
  `${COOKIE_PREFIX}${sha256(state).subarray(0, 8).toString("hex")}`;

export interface StartedSignIn {
  /** The provider's authorization URL. */
  location: string;
  cookie: { name: string; value: string; maxAgeSeconds: number; path: string };
}

export interface FinishedSignIn {
  user: string;
  /** The session token (`slc_…`), shown once in the redirect to the dashboard. */
  token: string;
  expiresAt: Date;
  next: string;
}

/** Refused sign-ins written to the audit log per minute at most (anyone can call the callback). */
const FAILURES_PER_MINUTE = 60;
/** Sign-ins started per minute at most, per server copy (each keeps a row for ten minutes). */
const STARTS_PER_MINUTE = 600;

/** A token bucket refilled over a minute. */
class Budget {
  private tokens: number;
  private at = Date.now();

  constructor(private readonly perMinute: number) {
    this.tokens = perMinute;
  }

  take(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.at) * this.perMinute) / 60_000);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * OpenID Connect sign-in to the dashboard: authorization code flow with PKCE (S256), state and
 * nonce, at the provider of SLUICE_OIDC_ISSUER (discovered once, again after a failure).
 *
 * A flow's state is kept in PostgreSQL (oidc_sign_in_flows) by its SHA-256, single use, for ten
 * minutes, with the SHA-256 of a random binding secret set as an HTTP-only cookie on the browser
 * that started it; the PKCE verifier is derived from that secret. The callback is accepted only
 * from that browser (no login CSRF: nobody can make a victim finish the attacker's sign-in), and
 * the database holds nothing that would let anyone finish a flow.
 *
 * A finished sign-in links the provider's (issuer, subject) to a user (created on the first
 * sign-in), sets the memberships of the mapped groups, and issues a short-lived API token (the
 * dashboard's session, `SESSION_DESCRIPTION`) in the audit log's sign-in row.
 */
export class OidcSignIn {
  private configuration: Promise<Configuration> | null = null;
  private readonly starts = new Budget(STARTS_PER_MINUTE);
  private readonly failures = new Budget(FAILURES_PER_MINUTE);
  /** Refusals whose audit row exists already (a sign-in that failed after it committed). */
  private readonly recorded = new WeakSet<SignInRefused>();

  constructor(
    private readonly settings: OidcSettings,
    private readonly deps: {
      flows: OidcStore;
      identity: IdentityStore;
      audit: AuditStore;
      authenticator: Authenticator;
      logger: Logger;
      /** The server's public URL (SLUICE_PUBLIC_URL): the redirect URI is under it. */
      publicUrl: string;
      sessionTtlMs: number;
      now?: () => number;
    },
  ) {}

  get redirectUri(): string {
    return `${this.deps.publicUrl}${CALLBACK_PATH}`;
  }

  get buttonLabel(): string {
    return this.settings.buttonLabel;
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  /** Discovers the provider now (at start-up), so that a bad issuer shows in the log early. */
  warmUp(): void {
    this.provider().catch((error: unknown) =>
      this.deps.logger.warn(
        { issuer: this.settings.issuer, err: reasonOf(error) },
        "the OpenID provider cannot be discovered yet; single sign-on retries at the next sign-in",
      ),
    );
  }

  private provider(): Promise<Configuration> {
    if (!this.configuration) {
      this.configuration = (async () => {
        const oidc = await loadClient();
        const issuer = new URL(this.settings.issuer);
        return oidc.discovery(
          issuer,
          this.settings.clientId,
          undefined,
          oidc.ClientSecretBasic(this.settings.clientSecret),
          {
            // http only for a provider on a loopback address (oidc-config.ts refuses any other).
            execute: issuer.protocol === "http:" ? [oidc.allowInsecureRequests] : [],
            timeout: 10,
          },
        );
      })();
      this.configuration.catch(() => (this.configuration = null));
    }
    return this.configuration;
  }

  /** A new flow: where to send the browser, and the cookie that binds the flow to it. */
  async start(next: unknown): Promise<StartedSignIn> {
    // Each start writes a row for anyone who asks: a budget per server copy keeps that bounded.
    if (!this.starts.take()) {
      throw new SignInRefused("BUSY", "Too many sign-ins are starting at once. Try again in a minute.");
    }
    const oidc = await loadClient();
    let config: Configuration;
    try {
      config = await this.provider();
    } catch (error) {
      this.deps.logger.warn(
        { issuer: this.settings.issuer, err: reasonOf(error) },
        "OpenID discovery failed",
      );
      throw new SignInRefused(
        "PROVIDER_UNAVAILABLE",
        "The identity provider does not answer. Try again later, or sign in with a token.",
      );
    }
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const binding = crypto.randomBytes(32).toString("base64url");
    await this.deps.flows.saveFlow(sha256(state), {
      browserHash: sha256(binding),
      nonce,
      nextPath: safeNext(next),
      expiresAt: new Date(this.now() + FLOW_TTL_MS),
    });
    const location = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.redirectUri,
      scope: this.settings.scopes,
      state,
      nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifierOf(binding)),
      code_challenge_method: "S256",
    });
    return {
      location: location.href,
      cookie: {
        name: flowCookieName(state),
        value: binding,
        maxAgeSeconds: FLOW_TTL_MS / 1000,
        path: CALLBACK_PATH,
      },
    };
  }

  /**
   * The callback: `query` is its query string, `cookies` the browser's. Resolves with the session;
   * rejects with SignInRefused (recorded in the audit log) for anything that does not verify.
   */
  async finish(
    query: URLSearchParams,
    cookies: Record<string, string>,
    requestId: string | null,
  ): Promise<FinishedSignIn> {
    try {
      return await this.verifyAndSignIn(query, cookies, requestId);
    } catch (error) {
      const refused =
        error instanceof SignInRefused
          ? error
          : new SignInRefused(
              "INTERNAL",
              "Signing in failed on the server. Try again; if it goes on, tell an administrator.",
            );
      if (!(error instanceof SignInRefused))
        this.deps.logger.error({ err: reasonOf(error), requestId }, "OpenID sign-in failed");
      await this.recordFailure(refused, requestId);
      throw refused;
    }
  }

  private async verifyAndSignIn(
    query: URLSearchParams,
    cookies: Record<string, string>,
    requestId: string | null,
  ): Promise<FinishedSignIn> {
    const oidc = await loadClient();
    const state = query.get("state");
    if (!state)
      throw new SignInRefused(
        "BAD_STATE",
        "The identity provider's answer carries no sign-in state. Start again.",
      );
    const flow = await this.deps.flows.takeFlow(sha256(state));
    if (!flow)
      throw new SignInRefused("BAD_STATE", "This sign-in is unknown or was used already. Start again.");
    if (flow.expiresAt.getTime() <= this.now())
      throw new SignInRefused("EXPIRED", "This sign-in took more than 10 minutes. Start again.");
    const binding = cookies[flowCookieName(state)];
    if (!binding || !crypto.timingSafeEqual(sha256(binding), flow.browserHash)) {
      throw new SignInRefused(
        "OTHER_BROWSER",
        "This sign-in was started in another browser (or its cookie was blocked). Start again here.",
      );
    }
    const providerError = query.get("error");
    if (providerError) {
      const description = query.get("error_description");
      throw new SignInRefused(
        providerError === "access_denied" ? "DENIED" : "PROVIDER_ERROR",
        providerError === "access_denied"
          ? "Sign-in was cancelled or refused at the identity provider."
          : `The identity provider refused the sign-in (${clip(providerError)}${description ? `: ${clip(description)}` : ""}).`,
      );
    }
    let config: Configuration;
    try {
      config = await this.provider();
    } catch {
      throw new SignInRefused(
        "PROVIDER_UNAVAILABLE",
        "The identity provider does not answer. Try again later.",
      );
    }
    // The redirect URI as registered (the request may have come through a proxy).
    const currentUrl = new URL(this.redirectUri);
    currentUrl.search = query.toString();
    let tokens: Awaited<ReturnType<Client["authorizationCodeGrant"]>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: verifierOf(binding),
        expectedState: state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw new SignInRefused(
        "INVALID_RESPONSE",
        `The identity provider's answer does not verify (${describe(error)}). Start again.`,
      );
    }
    const claims = tokens.claims();
    if (!claims)
      throw new SignInRefused("INVALID_RESPONSE", "The identity provider sent no ID token. Start again.");
    let profile: Record<string, unknown> = { ...claims };
    // Many providers list groups (and profile claims) only at the userinfo endpoint.
    if (profile[this.settings.groupsClaim] === undefined && config.serverMetadata().userinfo_endpoint) {
      try {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
        profile = { ...info, ...profile, [this.settings.groupsClaim]: info[this.settings.groupsClaim] };
      } catch (error) {
        throw new SignInRefused(
          "INVALID_RESPONSE",
          `The identity provider's userinfo does not verify (${describe(error)}).`,
        );
      }
    }
    const identity = this.identityOf(claims.iss, claims.sub, profile);
    const providerGroups = groupsOf(profile[this.settings.groupsClaim]);
    const groups = [...new Set(providerGroups.flatMap((g) => this.settings.groupMap.get(g) ?? []))].sort();
    const expiresAt = new Date(this.now() + this.deps.sessionTtlMs);
    const linked = await this.deps.flows.linkedUser(identity.issuer, identity.subject);
    const event: NewAuditEvent = {
      principal: `user/${linked ?? identity.name}`,
      operation: SIGN_IN_OPERATION,
      pipelineName: null,
      target: `user/${linked ?? identity.name}`,
      arguments: {
        issuer: identity.issuer,
        subject: identity.subject,
        groups,
        sessionExpiresAt: expiresAt.toISOString(),
      },
      outcome: "ok",
      error: null,
      requestId,
    };
    const pending = new PendingAudit(event);
    try {
      return await pending.run(async () => {
        let result;
        try {
          result = await this.deps.flows.signIn(identity, groups);
        } catch (error) {
          if (error instanceof DomainError && error.code === "CONFLICT")
            throw new SignInRefused("NAME_TAKEN", error.message);
          throw error;
        }
        if (result.added.length || result.removed.length) this.deps.authenticator.invalidate();
        if (result.missing.length)
          this.deps.logger.warn(
            { groups: result.missing },
            "SLUICE_OIDC_GROUP_MAP names Sluice groups that do not exist: create them",
          );
        const { secret } = await this.deps.identity.createApiToken(
          { kind: "user", name: result.user },
          SESSION_DESCRIPTION,
          expiresAt,
          `user/${result.user}`,
        );
        this.deps.logger.info(
          {
            user: result.user,
            created: result.created,
            added: result.added,
            removed: result.removed,
            requestId,
          },
          "signed in with OpenID Connect",
        );
        return { user: result.user, token: secret, expiresAt, next: flow.nextPath };
      });
    } catch (error) {
      // The sign-in's row committed with its user and groups, but the session was not issued.
      if (pending.id !== null) {
        await this.deps.audit
          .settle(pending.id, "INTERNAL_SERVER_ERROR", null)
          .catch((failure: unknown) => this.deps.logger.error({ err: failure }, "audit outcome not written"));
        // Recorded there: not again as a refusal.
        const refused = new SignInRefused("INTERNAL", "Signing in failed on the server. Try again.");
        this.recorded.add(refused);
        throw refused;
      }
      throw error;
    }
  }

  private identityOf(issuer: string, subject: string, profile: Record<string, unknown>): OidcIdentity {
    const text = (key: string) => {
      const value = profile[key];
      return typeof value === "string" && value.trim() !== "" ? value.trim().slice(0, 200) : null;
    };
    const preferred = text("preferred_username");
    const name = [preferred, subject].find(
      (candidate) => candidate !== null && IDENTITY_NAME.test(candidate),
    );
    if (!name) {
      throw new SignInRefused(
        "BAD_NAME",
        "Your identity provider account has no user name Sluice can use (preferred_username or sub of 1 to 64 letters, digits and _.@+=,-). Ask an administrator.",
      );
    }
    const email = text("email");
    return {
      issuer,
      subject,
      name,
      displayName: text("name") ?? preferred,
      email: email && /^[^\s@]+@[^\s@]+$/.test(email) ? email : null,
    };
  }

  private async recordFailure(refused: SignInRefused, requestId: string | null): Promise<void> {
    if (this.recorded.has(refused)) return;
    this.deps.logger.info({ reason: refused.reason, requestId }, "OpenID sign-in refused");
    if (!this.failures.take()) return;
    await this.deps.audit
      .record({
        principal: "anonymous",
        operation: SIGN_IN_OPERATION,
        pipelineName: null,
        target: null,
        arguments: { issuer: this.settings.issuer, reason: refused.reason },
        outcome: "UNAUTHENTICATED",
        error: refused.message,
        requestId,
      })
      .catch((failure: unknown) => this.deps.logger.error({ err: failure }, "audit event not written"));
  }
}

function groupsOf(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string");
  return [];
}

const clip = (value: string) => value.replace(/[^\x20-\x7e]/g, "?").slice(0, 200);

/** An openid-client error, as a short phrase (the provider's OAuth error, or the check that failed). */
function describe(error: unknown): string {
  const e = error as { error?: unknown; error_description?: unknown; code?: unknown; message?: unknown };
  if (typeof e.error === "string")
    return clip(typeof e.error_description === "string" ? `${e.error}: ${e.error_description}` : e.error);
  if (typeof e.message === "string") return clip(e.message);
  return "unknown error";
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? clip(error.message) : "unknown error";
}
