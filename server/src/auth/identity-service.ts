import { DomainError } from "../domain/errors";
import {
  effectivePolicies,
  simulatePolicy,
  validatePolicy,
  type PolicyHolder,
  type Simulation,
  type SourcedPolicy,
} from "../domain/policy";
import {
  isManagedPolicyName,
  type ApiTokenRow,
  type AttachmentRow,
  type GroupRow,
  type HolderKind,
  type IdentityStore,
  type PolicyRow,
  type ServiceAccountRow,
  type TokenOwnerKind,
  type UserRow,
} from "../persistence/identity-store";
import type { Authenticator } from "./authenticate";
import type { ConnectionRegistry } from "./connections";
import { actingAccount, type Principal } from "./principal";

/** Names of users, groups, service accounts and policies: IAM's characters, no `/` or `:`. */
export const IDENTITY_NAME = /^[A-Za-z0-9_.@+=,-]{1,64}$/;
const MAX_DESCRIPTION = 1000;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

export interface PrincipalRef {
  kind: HolderKind;
  name: string;
}

function badInput(path: string, message: string): DomainError {
  return new DomainError("BAD_USER_INPUT", message, { validationErrors: [{ path, message }] });
}

function checkName(path: string, name: string): void {
  if (!IDENTITY_NAME.test(name)) {
    throw badInput(
      path,
      `${JSON.stringify(name.slice(0, 80))} is not a valid name: use 1 to 64 letters, digits and _.@+=,-`,
    );
  }
}

function checkDescription(path: string, value: string | null): void {
  if (value !== null && value.length > MAX_DESCRIPTION) {
    throw badInput(path, `${path} must be at most ${MAX_DESCRIPTION} characters.`);
  }
}

/** `user/alice`, `group/ops`, `service-account/ci` → its kind and name. */
export function parsePrincipalRef(path: string, value: string, kinds: readonly HolderKind[]): PrincipalRef {
  const slash = value.indexOf("/");
  const kind = value.slice(0, slash) as HolderKind;
  const name = value.slice(slash + 1);
  if (slash < 0 || !kinds.includes(kind)) {
    throw badInput(
      path,
      `${JSON.stringify(value.slice(0, 80))} names no principal: write ${kinds.map((k) => `${k}/<name>`).join(" or ")}.`,
    );
  }
  checkName(path, name);
  return { kind, name };
}

/**
 * Users, groups, service accounts, API tokens, policies and attachments: the input checks, the
 * store, and what a change means for the principals already authenticated (the authenticator's
 * cache is emptied, and connections opened with a token that no longer authenticates close).
 * Everything happens in the account the caller acts in (`by`: its own, or its assumed role's).
 */
export class IdentityService {
  constructor(
    private readonly store: IdentityStore,
    private readonly authenticator: Authenticator,
    private readonly connections: ConnectionRegistry,
  ) {}

  /** The store of the account the caller acts in. */
  private in(by: Principal): IdentityStore {
    return this.store.forAccount(actingAccount(by));
  }

  async createUser(
    input: { name: string; displayName: string | null; email: string | null },
    by: Principal,
  ): Promise<UserRow> {
    checkName("name", input.name);
    checkDescription("displayName", input.displayName);
    if (input.email !== null && (!EMAIL.test(input.email) || input.email.length > 254)) {
      throw badInput("email", `${JSON.stringify(input.email.slice(0, 80))} is not an email address.`);
    }
    return this.in(by).createUser(input, by.id);
  }

  async createGroup(name: string, by: Principal): Promise<GroupRow> {
    checkName("name", name);
    return this.in(by).createGroup(name, by.id);
  }

  async createServiceAccount(
    name: string,
    description: string | null,
    by: Principal,
  ): Promise<ServiceAccountRow> {
    checkName("name", name);
    checkDescription("description", description);
    return this.in(by).createServiceAccount(name, description, by.id);
  }

  async setMembership(group: string, user: string, member: boolean, by: Principal): Promise<boolean> {
    checkName("groupName", group);
    checkName("userName", user);
    const changed = await this.in(by).setMembership(group, user, member);
    this.changed();
    return changed;
  }

  async createApiToken(
    owner: string,
    description: string,
    expiresAt: Date | null,
    by: Principal,
  ): Promise<{ token: ApiTokenRow; secret: string }> {
    const ref = parsePrincipalRef("principal", owner, ["user", "service-account"]);
    checkDescription("description", description);
    if (description.trim() === "") throw badInput("description", "A token needs a description.");
    if (expiresAt !== null && (Number.isNaN(expiresAt.getTime()) || expiresAt.getTime() <= Date.now())) {
      throw badInput("expiresAt", "expiresAt must be in the future.");
    }
    return this.in(by).createApiToken(
      ref as { kind: TokenOwnerKind; name: string },
      description,
      expiresAt,
      by.id,
    );
  }

  async apiTokens(owner: string | null, by: Principal): Promise<ApiTokenRow[]> {
    const ref = owner === null ? null : parsePrincipalRef("principal", owner, ["user", "service-account"]);
    return this.in(by).apiTokens(ref as { kind: TokenOwnerKind; name: string } | null);
  }

  async revokeApiToken(id: string, by: Principal): Promise<ApiTokenRow> {
    const row = await this.store.revokeApiToken(id, by.id);
    if (!row) throw new DomainError("NOT_FOUND", `No API token ${JSON.stringify(id)} exists.`);
    this.changed();
    return row;
  }

  async putPolicy(
    name: string,
    description: string | null,
    document: unknown,
    by: Principal,
  ): Promise<PolicyRow> {
    checkName("name", name);
    checkDescription("description", description);
    if (isManagedPolicyName(name)) {
      throw badInput("name", `"${name}" is a managed policy: it cannot be changed; choose another name.`);
    }
    const validation = validatePolicy(document);
    if (!validation.ok) {
      const issues = validation.issues.map((i) => ({
        path: i.path ? `document.${i.path}` : "document",
        message: i.message,
      }));
      throw new DomainError(
        "BAD_USER_INPUT",
        `The policy document is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`.slice(
          0,
          2000,
        ),
        { validationErrors: issues },
      );
    }
    const row = await this.in(by).putPolicy(name, description, validation.document, by.id);
    this.changed();
    return row;
  }

  async deletePolicy(name: string, by: Principal): Promise<boolean> {
    checkName("name", name);
    if (isManagedPolicyName(name))
      throw badInput("name", `"${name}" is a managed policy: it cannot be deleted.`);
    const deleted = await this.in(by).deletePolicy(name);
    if (!deleted) throw new DomainError("NOT_FOUND", `No policy named "${name}" exists.`);
    return true;
  }

  users(by: Principal): Promise<UserRow[]> {
    return this.in(by).users();
  }

  groups(by: Principal): Promise<Array<GroupRow & { members: string[] }>> {
    return this.in(by).groups();
  }

  serviceAccounts(by: Principal): Promise<ServiceAccountRow[]> {
    return this.in(by).serviceAccounts();
  }

  attachments(by: Principal): Promise<AttachmentRow[]> {
    return this.in(by).allAttachments();
  }

  policies(by: Principal): Promise<PolicyRow[]> {
    return this.in(by).policies();
  }

  async setAttachment(
    policyName: string,
    principal: string,
    attached: boolean,
    by: Principal,
  ): Promise<boolean> {
    checkName("policyName", policyName);
    const ref = parsePrincipalRef("principal", principal, ["user", "group", "service-account", "role"]);
    const changed = await this.in(by).setAttachment(policyName, ref, attached, by.id);
    this.changed();
    return changed;
  }

  /**
   * The effective policies of the caller, in evaluation order: a user's or service account's own
   * and its groups', or, in a role session, the role's only.
   */
  async callerPolicies(caller: Principal): Promise<SourcedPolicy[]> {
    if (caller.kind !== "user" && caller.kind !== "service-account") return [];
    const store = this.in(caller);
    if (caller.assumedRole) {
      const role = caller.assumedRole.name;
      return effectivePolicies({
        kind: "role-session",
        role,
        policies: await store.policiesAttachedTo("role", role),
      });
    }
    const holder = await store.holder(caller.kind as TokenOwnerKind, caller.name);
    return holder ? effectivePolicies(holder) : [];
  }

  /** The groups of the caller (none in a role session). */
  async callerGroups(caller: Principal): Promise<string[]> {
    return caller.kind === "user" && !caller.assumedRole ? this.in(caller).groupsOf(caller.name) : [];
  }

  /** simulatePolicy for a user, a service account, a group or a role (its own policies). */
  async simulate(principal: string, action: string, resource: string, by: Principal): Promise<Simulation> {
    const ref = parsePrincipalRef("principal", principal, ["user", "group", "service-account", "role"]);
    const store = this.in(by);
    if (action.length === 0 || action.length > 200)
      throw badInput("action", "action must be 1 to 200 characters.");
    if (resource.length === 0 || resource.length > 2048) {
      throw badInput("resource", "resource must be 1 to 2048 characters.");
    }
    const holder: PolicyHolder | null =
      ref.kind === "group" || ref.kind === "role"
        ? (await store.exists(ref.kind, ref.name))
          ? ref.kind === "role"
            ? {
                kind: "role-session",
                role: ref.name,
                policies: await store.policiesAttachedTo("role", ref.name),
              }
            : {
                kind: "user",
                name: ref.name,
                policies: [],
                groups: [{ name: ref.name, policies: await store.policiesAttachedTo("group", ref.name) }],
              }
          : null
        : await store.holder(ref.kind, ref.name);
    if (!holder)
      throw new DomainError("NOT_FOUND", `No ${ref.kind.replace("-", " ")} named "${ref.name}" exists.`);
    return simulatePolicy(holder, action, resource);
  }

  /** Cached principals are stale: forget them, and close connections that no longer authenticate. */
  changed(): void {
    this.authenticator.invalidate();
    void this.connections.recheck();
  }
}
