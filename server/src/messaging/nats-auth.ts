/**
 * NATS with authentication (docs/ARCHITECTURE.md "NATS security", PROTOCOL.md section 11): the
 * server's own credentials, the short-lived users it signs for agents, and the revocations it pushes
 * to nats-server in the Sluice account's JWT (through the system account), so that nats-server
 * itself closes a revoked agent's connection and refuses its JWT from then on.
 */
import { connect, jwtAuthenticator, type Authenticator } from "@nats-io/transport-node";
import { agentInboxPrefix, agentPermissions, type ActionTypeId } from "@sluice/protocol";
import type { Logger } from "../logger";
import type { AgentStore, AgentTokenRow } from "../persistence/agent-store";
import type { NatsIdentity } from "./nats-identity";

/** How long an agent's NATS user lasts; the agent renews it after two thirds of it. */
export const AGENT_CREDENTIALS_SECONDS = 3600;

export interface AgentCredentialsRequest {
  /** The agent's user public key (`U...`); the agent keeps its seed. */
  publicKey: string;
  name: string;
  pool: string;
  providers: ActionTypeId[];
}

export interface AgentCredentials {
  /** The user JWT; with the agent's seed it is the agent's NATS credential. */
  jwt: string;
  agentId: string;
  /** The inbox prefix the agent must connect with (the only inbox it may subscribe to). */
  inboxPrefix: string;
  expiresAt: string;
  /** The account of the agent's token: its job consumers are that account's. */
  account: string;
}

export class NatsAuth {
  private pushing: Promise<void> = Promise.resolve();

  constructor(
    readonly identity: NatsIdentity,
    private readonly store: AgentStore,
    private readonly servers: string[],
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly credentialsSeconds = AGENT_CREDENTIALS_SECONDS,
    /** NATS over TLS, trusting this CA. */
    private readonly caFile?: string,
  ) {}

  /** The server's own connection authenticator. */
  async serverAuthenticator(): Promise<Authenticator> {
    const { jwt, seed } = await this.identity.serverCredentials();
    return jwtAuthenticator(jwt, seed);
  }

  /**
   * Signs a user for an agent whose token is valid: its subjects only (its pool, its providers, its
   * own inbox and cancel subject), for an hour. Null when the key already belongs to another agent.
   */
  async issue(token: AgentTokenRow, request: AgentCredentialsRequest): Promise<AgentCredentials | null> {
    const agentId = await this.store.agentIdFor(token.id, request.name, request.pool, request.providers);
    // Whole seconds: the JWT's `exp` is in seconds, and the agent renews from what we answer.
    const expiresAt = new Date(Math.floor(Date.now() / 1000 + this.credentialsSeconds) * 1000);
    if (!(await this.store.recordNatsUser(request.publicKey, token.id, agentId, expiresAt))) return null;
    const permissions = agentPermissions({
      prefix: this.prefix,
      agentId,
      pool: request.pool,
      // Its token's account's pool only: never another account's jobs (PROTOCOL.md 3.3, 11.3).
      account: token.account,
      providers: request.providers,
    });
    const jwt = await this.identity.agentUserJwt(
      request.publicKey,
      `sluice-agent ${request.name}`,
      permissions,
      expiresAt,
    );
    return {
      jwt,
      agentId,
      inboxPrefix: agentInboxPrefix(agentId),
      expiresAt: expiresAt.toISOString(),
      account: token.account,
    };
  }

  /**
   * Pushes the Sluice account's JWT with the current revocations to nats-server (its full resolver
   * keeps it): nats-server disconnects every revoked user at once. One push at a time, in order.
   */
  pushAccount(): Promise<void> {
    const next = this.pushing.catch(() => undefined).then(() => this.push());
    this.pushing = next;
    return next;
  }

  /**
   * pushAccount, retried every 2 s for a minute when it fails (nats-server restarting): a revocation
   * must reach nats-server. After that the next reconnect or start pushes it.
   */
  async pushUntilDone(attempts = 30): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.pushAccount();
        return;
      } catch (error) {
        if (attempt >= attempts) throw error;
        if (attempt === 1)
          this.logger.warn({ err: (error as Error).message }, "cannot push the NATS account yet; retrying");
        await new Promise((resolve) => setTimeout(resolve, 2000).unref());
      }
    }
  }

  private async push(): Promise<void> {
    const revocations = await this.store.natsRevocations();
    const jwt = await this.identity.accountJwt(revocations);
    const { jwt: userJwt, seed } = await this.identity.systemCredentials();
    const nc = await connect({
      servers: this.servers,
      name: "sluice-server (account update)",
      authenticator: jwtAuthenticator(userJwt, seed),
      reconnect: false,
      timeout: 5000,
      ...(this.caFile ? { tls: { caFile: this.caFile } } : {}),
    });
    try {
      const reply = await nc.request(
        `$SYS.REQ.ACCOUNT.${this.identity.accountPublicKey}.CLAIMS.UPDATE`,
        new TextEncoder().encode(jwt),
        { timeout: 5000 },
      );
      const answer = reply.json<{ error?: { description?: string }; data?: { code?: number } }>();
      if (answer.error)
        throw new Error(`nats-server refused the account update: ${answer.error.description}`);
      this.logger.info({ revoked: Object.keys(revocations).length }, "NATS account updated");
    } finally {
      await nc.close();
    }
  }
}
