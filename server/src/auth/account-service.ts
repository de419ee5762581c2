import { DomainError } from "../domain/errors";
import { ACCOUNT_PATTERN, ROLE_SRN, validateTrustPolicy } from "../domain/policy";
import type { AccountRow, AccountStore, RoleRow, RoleSessionToken } from "../persistence/account-store";
import type { TokenOwnerKind } from "../persistence/identity-store";
import type { AccountRetentionRow, RetentionSettings, RetentionStore } from "../persistence/retention-store";
import { IDENTITY_NAME, type IdentityService } from "./identity-service";
import { actingAccount, homeAccount, type Principal } from "./principal";

/** A role session lasts 1 hour unless asked otherwise, at most the role's maximum (≤ 12 hours). */
export const DEFAULT_SESSION_SECONDS = 3600;
export const MAX_SESSION_SECONDS = 43_200;
/** A role's maximum session duration is at least a minute. */
export const MIN_ROLE_MAX_SESSION_SECONDS = 60;
/** Shortest session that may be asked for (short ones are for scripts and tests). */
export const MIN_SESSION_SECONDS = 5;
/** IAM's RoleSessionName: 2 to 64 of these characters. */
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const MAX_DESCRIPTION = 1000;

function badInput(path: string, message: string): DomainError {
  return new DomainError("BAD_USER_INPUT", message, { validationErrors: [{ path, message }] });
}

function checkDescription(path: string, value: string | null): void {
  if (value !== null && value.length > MAX_DESCRIPTION) {
    throw badInput(path, `${path} must be at most ${MAX_DESCRIPTION} characters.`);
  }
}

/** Largest retention figures accepted (100 years; a million executions per pipeline). */
export const MAX_RETENTION_DAYS = 36_500;
export const MAX_RETENTION_EXECUTIONS = 1_000_000;

/** An account's retention: its own setting (null fields inherit) and what applies. */
export interface AccountRetention {
  account: string;
  executionDays: number | null;
  maxExecutions: number | null;
  effectiveExecutionDays: number;
  effectiveMaxExecutions: number;
  updatedAt: Date | null;
  updatedBy: string | null;
}

function noAccount(account: string): DomainError {
  return new DomainError("NOT_FOUND", `No account ${JSON.stringify(account.slice(0, 80))} exists.`);
}

/** A whole number from 0 to `max` (0: no limit), or null (inherit). */
function checkCount(path: string, value: number | null, max: number): void {
  if (value !== null && (!Number.isInteger(value) || value < 0 || value > max)) {
    throw badInput(path, `${path} must be a whole number from 0 (no limit) to ${max}, or null to inherit.`);
  }
}

export interface AssumedRoleCredentials extends RoleSessionToken {
  role: RoleRow;
  sessionName: string;
}

/**
 * Accounts (tenants), roles and role sessions (docs/policies.md, "Accounts and delegation"): the
 * input checks, the store, and what a change means for principals already authenticated. Whether
 * a caller may assume a role is the checker's (auth/authorization.ts, decideAssumeRole): by the
 * time assumeRole runs here it was allowed.
 */
export class AccountService {
  constructor(
    private readonly store: AccountStore,
    private readonly identity: IdentityService,
    private readonly retention: { store: RetentionStore; installation: RetentionSettings },
  ) {}

  /**
   * An account's retention of its pipelines' finished executions, logs and artifacts
   * (docs/backup.md, "Retention"): its own setting, and what applies to a pipeline without one of
   * its own (a pipeline's SLUICE_RETENTION_PIPELINES entry beats the account's setting, which beats
   * the installation's).
   */
  async accountRetention(account: string): Promise<AccountRetention> {
    if (!(await this.store.accountExists(account))) throw noAccount(account);
    return this.retentionOf(account, await this.retention.store.accountRetention(account));
  }

  /** Sets an account's retention; a null field inherits the installation's. Audited. */
  async putAccountRetention(
    account: string,
    setting: { executionDays: number | null; maxExecutions: number | null },
    by: Principal,
  ): Promise<AccountRetention> {
    checkCount("executionDays", setting.executionDays, MAX_RETENTION_DAYS);
    checkCount("maxExecutions", setting.maxExecutions, MAX_RETENTION_EXECUTIONS);
    const row = await this.retention.store.putAccountRetention(account, setting, by.id);
    return this.retentionOf(account, row);
  }

  private retentionOf(account: string, row: AccountRetentionRow | null): AccountRetention {
    const installation = this.retention.installation;
    return {
      account,
      executionDays: row?.executionDays ?? null,
      maxExecutions: row?.maxExecutions ?? null,
      effectiveExecutionDays: row?.executionDays ?? installation.executionDays,
      effectiveMaxExecutions: row?.maxExecutions ?? installation.maxExecutions,
      updatedAt: row?.updatedAt ?? null,
      updatedBy: row?.updatedBy ?? null,
    };
  }

  async createAccount(id: string, description: string | null, by: Principal): Promise<AccountRow> {
    if (!ACCOUNT_PATTERN.test(id)) {
      throw badInput(
        "id",
        `${JSON.stringify(id.slice(0, 80))} is not a valid account id: use 1 to 64 letters, digits, _ and -.`,
      );
    }
    checkDescription("description", description);
    return this.store.createAccount(id, description, actingAccount(by), by.id);
  }

  accounts(): Promise<AccountRow[]> {
    return this.store.accounts();
  }

  async createRole(
    input: {
      name: string;
      trustPolicy: unknown;
      description: string | null;
      maxSessionSeconds: number | null;
    },
    by: Principal,
  ): Promise<RoleRow> {
    if (!IDENTITY_NAME.test(input.name)) {
      throw badInput(
        "name",
        `${JSON.stringify(input.name.slice(0, 80))} is not a valid name: use 1 to 64 letters, digits and _.@+=,-`,
      );
    }
    checkDescription("description", input.description);
    const max = input.maxSessionSeconds ?? DEFAULT_SESSION_SECONDS;
    if (!Number.isInteger(max) || max < MIN_ROLE_MAX_SESSION_SECONDS || max > MAX_SESSION_SECONDS) {
      throw badInput(
        "maxSessionSeconds",
        `maxSessionSeconds must be a whole number from ${MIN_ROLE_MAX_SESSION_SECONDS} to ${MAX_SESSION_SECONDS} (12 hours).`,
      );
    }
    const validation = validateTrustPolicy(input.trustPolicy);
    if (!validation.ok) {
      const issues = validation.issues.map((i) => ({
        path: i.path ? `trustPolicy.${i.path}` : "trustPolicy",
        message: i.message,
      }));
      throw new DomainError(
        "BAD_USER_INPUT",
        `The trust policy is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`.slice(
          0,
          2000,
        ),
        { validationErrors: issues },
      );
    }
    return this.store.createRole(
      actingAccount(by),
      {
        name: input.name,
        description: input.description,
        trustPolicy: validation.document,
        maxSessionSeconds: max,
      },
      by.id,
    );
  }

  async deleteRole(name: string, by: Principal): Promise<boolean> {
    const deleted = await this.store.deleteRole(actingAccount(by), name);
    if (!deleted)
      throw new DomainError("NOT_FOUND", `No role named ${JSON.stringify(name.slice(0, 80))} exists.`);
    // Its sessions' credentials went with it: close their connections.
    this.identity.changed();
    return true;
  }

  roles(by: Principal): Promise<RoleRow[]> {
    return this.store.roles(actingAccount(by));
  }

  /**
   * Credentials for a session of `role` (`role/<name>` in the caller's account, or another
   * account's `srn:sluice:<account>:role/<name>`), owned by the caller, expiring after
   * `durationSeconds` (default 1 hour, at most the role's maximum).
   */
  async assumeRole(
    role: string,
    sessionName: string,
    durationSeconds: number | null,
    by: Principal,
  ): Promise<AssumedRoleCredentials> {
    const own = /^role\/([^/:*?]+)$/.exec(role);
    const other = ROLE_SRN.exec(role);
    const [account, name] = own
      ? [actingAccount(by), own[1]!]
      : other
        ? [other[1]!, other[2]!]
        : [null, null];
    if (account === null || name === null) {
      throw badInput("role", "role must be role/<name> or srn:sluice:<account>:role/<name>.");
    }
    if (!SESSION_NAME.test(sessionName)) {
      throw badInput("sessionName", "sessionName must be 2 to 64 letters, digits and _+=,.@-");
    }
    const row = await this.store.role(account, name);
    if (!row) throw new DomainError("NOT_FOUND", `No role ${role} exists.`);
    const duration = durationSeconds ?? Math.min(DEFAULT_SESSION_SECONDS, row.maxSessionSeconds);
    if (!Number.isInteger(duration) || duration < MIN_SESSION_SECONDS || duration > row.maxSessionSeconds) {
      throw badInput(
        "durationSeconds",
        `durationSeconds must be a whole number from ${MIN_SESSION_SECONDS} to the role's maximum session duration, ${row.maxSessionSeconds}.`,
      );
    }
    if (by.kind !== "user" && by.kind !== "service-account") {
      throw new DomainError("FORBIDDEN", "Only users and service accounts assume roles.");
    }
    const token = await this.store.createRoleSession(
      row,
      { kind: by.kind as TokenOwnerKind, account: homeAccount(by), name: by.name },
      sessionName,
      new Date(Date.now() + duration * 1000),
      by.id,
    );
    return { ...token, role: row, sessionName };
  }
}
