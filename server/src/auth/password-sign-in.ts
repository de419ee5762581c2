import crypto from "node:crypto";
import { hash, verify } from "@node-rs/argon2";
import { DomainError } from "../domain/errors";
import type { IdentityStore } from "../persistence/identity-store";
import {
  SESSION_TOKEN_DESCRIPTION,
  type LockoutPolicy,
  type PasswordStore,
} from "../persistence/password-store";
import type { Authenticator } from "./authenticate";
import type { ConnectionRegistry } from "./connections";
import { IDENTITY_NAME } from "./identity-service";
import { actingAccount, DEFAULT_ACCOUNT, homeAccount, principalId, type Principal } from "./principal";

/** Passwords (and so password sign-in) are for users of the default account. */
const ONLY_DEFAULT_ACCOUNT =
  "Passwords are for users of the default account; users of other accounts use API tokens, or a role.";

/** What makes a password acceptable (checked when one is set; sign-in accepts what was set). */
export const PASSWORD_RULE = {
  minLength: 12,
  maxLength: 256,
  minDistinct: 5,
} as const;

const PASSWORD_RULE_TEXT =
  `A password needs ${PASSWORD_RULE.minLength} to ${PASSWORD_RULE.maxLength} characters, ` +
  `at least ${PASSWORD_RULE.minDistinct} of them different, and must not contain the user name.`;

/** 5 failures lock a name for 30 s, each further failure doubles it, up to 15 minutes. */
export const DEFAULT_LOCKOUT: LockoutPolicy = {
  threshold: 5,
  baseMs: 30_000,
  maxMs: 15 * 60_000,
  forgetAfterMs: 24 * 3600_000,
};

/** The one answer to a wrong name, a wrong password, or a user without a password. */
export const SIGN_IN_REFUSED = "Wrong user name or password.";

export interface Session {
  /** The bearer token (`slc_…`): in this answer only. */
  token: string;
  expiresAt: Date;
  principal: string;
}

function badInput(path: string, message: string): DomainError {
  return new DomainError("BAD_USER_INPUT", message, { validationErrors: [{ path, message }] });
}

/** Why a new password is refused, or null. Never quotes the password. */
export function passwordProblem(user: string, password: string): string | null {
  const length = [...password].length;
  if (length < PASSWORD_RULE.minLength) return `The password is too short. ${PASSWORD_RULE_TEXT}`;
  if (length > PASSWORD_RULE.maxLength) return `The password is too long. ${PASSWORD_RULE_TEXT}`;
  if (new Set(password).size < PASSWORD_RULE.minDistinct)
    return `The password repeats too few characters. ${PASSWORD_RULE_TEXT}`;
  if (user.length >= 3 && password.toLowerCase().includes(user.toLowerCase()))
    return `The password contains the user name. ${PASSWORD_RULE_TEXT}`;
  return null;
}

/** How long to wait, for a person: `30 s`, `2 min`. */
const waitText = (ms: number) => {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s < 120 ? `${s} s` : `${Math.ceil(s / 60)} min`;
};

/**
 * Password sign-in (docs/ARCHITECTURE.md, security). Passwords are kept as argon2id hashes
 * (@node-rs/argon2's defaults: m=19 MiB, t=2, p=1). A successful `signIn` issues a session: an API
 * token of the user that expires after SLUICE_SESSION_TTL, sent as `Authorization: Bearer` like any
 * token (no cookie, so no CSRF surface). Failures count per name asked for, whether a user has it
 * or not (PasswordStore.attempt): the answer, and about the time it takes, are the same for an
 * unknown user, a user without a password and a wrong password.
 */
export class PasswordSignIn {
  /** An argon2id hash of a random string: what a missing user's attempt is checked against. */
  private dummy: Promise<string> | null = null;

  constructor(
    private readonly passwords: PasswordStore,
    private readonly identities: IdentityStore,
    private readonly authenticator: Authenticator,
    private readonly connections: ConnectionRegistry,
    private readonly settings: { sessionTtlMs: number; lockout?: LockoutPolicy },
  ) {}

  async signIn(name: string, password: string): Promise<Session> {
    // Malformed input cannot name a user: the same refusal (no lockout row for junk names).
    if (!IDENTITY_NAME.test(name) || password.length === 0 || password.length > 4 * PASSWORD_RULE.maxLength) {
      await this.check(null, password.slice(0, 4 * PASSWORD_RULE.maxLength));
      throw new DomainError("UNAUTHENTICATED", SIGN_IN_REFUSED);
    }
    const attempt = await this.passwords.attempt(name, this.lockout, (stored) =>
      this.check(stored, password),
    );
    if (!attempt.ok) {
      if (attempt.lockedUntil) {
        const wait = attempt.lockedUntil.getTime() - attempt.now.getTime();
        throw new DomainError(
          "UNAUTHENTICATED",
          `Too many failed sign-ins for "${name}": try again in ${waitText(wait)} ` +
            `(after ${attempt.lockedUntil.toISOString()}).`,
          { retryAfter: attempt.lockedUntil.toISOString() },
        );
      }
      throw new DomainError("UNAUTHENTICATED", SIGN_IN_REFUSED);
    }
    const expiresAt = new Date(Date.now() + this.settings.sessionTtlMs);
    const { secret } = await this.identities.createApiToken(
      { kind: "user", name },
      SESSION_TOKEN_DESCRIPTION,
      expiresAt,
      principalId("user", name),
    );
    return { token: secret, expiresAt, principal: principalId("user", name) };
  }

  /**
   * Revokes the caller's session token (its live connections close); false when the caller did
   * not authenticate with a session (an API token or the admin token: those stay valid).
   */
  async signOut(caller: Principal): Promise<boolean> {
    if (!caller.tokenId) return false;
    const token = await this.identities.apiToken(caller.tokenId);
    if (!token || token.description !== SESSION_TOKEN_DESCRIPTION || token.revokedAt) return false;
    await this.identities.revokeApiToken(caller.tokenId, caller.id);
    this.changed();
    return true;
  }

  /** An administrator sets a user's password; the user's sessions end. */
  async setUserPassword(user: string, password: string, by: Principal): Promise<boolean> {
    if (actingAccount(by) !== DEFAULT_ACCOUNT) throw badInput("userName", ONLY_DEFAULT_ACCOUNT);
    if (!IDENTITY_NAME.test(user))
      throw badInput("userName", `No user named ${JSON.stringify(user.slice(0, 80))} exists.`);
    const problem = passwordProblem(user, password);
    if (problem) throw badInput("password", problem);
    const revoked = await this.passwords.setPasswordHash(user, await hash(password), by.id, null);
    if (revoked.length > 0) this.changed();
    return true;
  }

  /**
   * Users change their own password, giving the current one (a wrong one counts as a failed
   * sign-in, lockout included); their other sessions end, the one they use stays.
   */
  async changePassword(caller: Principal, currentPassword: string, newPassword: string): Promise<boolean> {
    if (caller.kind !== "user") {
      throw new DomainError("BAD_USER_INPUT", "Only users have passwords.");
    }
    if (homeAccount(caller) !== DEFAULT_ACCOUNT || caller.assumedRole) {
      throw new DomainError("BAD_USER_INPUT", ONLY_DEFAULT_ACCOUNT);
    }
    const problem = passwordProblem(caller.name, newPassword);
    if (problem) throw badInput("newPassword", problem);
    const current = currentPassword.slice(0, 4 * PASSWORD_RULE.maxLength);
    const attempt = await this.passwords.attempt(caller.name, this.lockout, (stored) =>
      this.check(stored, current),
    );
    if (!attempt.ok) {
      const message = attempt.lockedUntil
        ? `Too many wrong passwords: try again in ${waitText(attempt.lockedUntil.getTime() - attempt.now.getTime())}.`
        : "The current password is wrong (or none is set: an administrator sets the first one).";
      throw badInput("currentPassword", message);
    }
    const revoked = await this.passwords.setPasswordHash(
      caller.name,
      await hash(newPassword),
      caller.id,
      caller.tokenId,
    );
    if (revoked.length > 0) this.changed();
    return true;
  }

  private get lockout(): LockoutPolicy {
    return this.settings.lockout ?? DEFAULT_LOCKOUT;
  }

  /** Verifies against the stored hash, or against a dummy one (same cost) when there is none. */
  private async check(stored: string | null, password: string): Promise<boolean> {
    this.dummy ??= hash(crypto.randomBytes(32).toString("base64url"));
    const target = stored ?? (await this.dummy);
    const matches = await verify(target, password).catch(() => false);
    return stored !== null && matches;
  }

  private changed(): void {
    this.authenticator.invalidate();
    void this.connections.recheck();
  }
}
