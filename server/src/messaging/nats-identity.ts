/**
 * The installation's NATS identity (decentralized JWT, docs/ARCHITECTURE.md "NATS security"): an
 * operator, the system account and the Sluice account, whose signing key signs the server's own
 * user and the short-lived users of agents. Made on the first start and kept in
 * `<data dir>/nats-identity.json` (mode 0600, its directory 0700); the seeds in it are never logged.
 * It also writes the nats-server configuration that trusts this operator.
 */
import fs from "node:fs";
import path from "node:path";
import {
  Algorithms,
  encodeAccount,
  encodeOperator,
  encodeUser,
  type Account,
  type Permissions,
} from "@nats-io/jwt";
import { createAccount, createOperator, createUser, fromSeed, type KeyPair } from "@nats-io/nkeys";

export const NATS_IDENTITY_FILE = "nats-identity.json";

interface StoredIdentity {
  version: 1;
  operator: string;
  systemAccount: string;
  account: string;
  accountSigning: string;
  server: string;
}

/** Every limit of an account written out: an omitted one makes nats-server refuse all clients. */
const UNLIMITED = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
};
const JETSTREAM_UNLIMITED = {
  mem_storage: -1,
  disk_storage: -1,
  streams: -1,
  consumer: -1,
  max_ack_pending: -1,
  mem_max_stream_bytes: -1,
  disk_max_stream_bytes: -1,
  max_bytes_required: false,
};

const seedText = (kp: KeyPair) => new TextDecoder().decode(kp.getSeed());
const pair = (seed: string) => fromSeed(new TextEncoder().encode(seed));

export interface NatsServerConfigOptions {
  /** host:port nats-server listens on. */
  listen: string;
  /** JetStream's store. */
  storeDir: string;
  /** Where the full resolver keeps account JWTs (and the revocations pushed to it). */
  resolverDir: string;
  /** TLS: the server's certificate and key (PEM files); clients then must use TLS. */
  tls?: { certFile: string; keyFile: string };
}

export class NatsIdentity {
  private constructor(
    private readonly operator: KeyPair,
    private readonly systemAccount: KeyPair,
    private readonly account: KeyPair,
    private readonly accountSigning: KeyPair,
    private readonly server: KeyPair,
  ) {}

  /** Reads `<dir>/nats-identity.json`, or makes a new identity there (0600) when there is none. */
  static loadOrCreate(dir: string): NatsIdentity {
    const file = path.join(dir, NATS_IDENTITY_FILE);
    let stored: StoredIdentity;
    try {
      stored = JSON.parse(fs.readFileSync(file, "utf8")) as StoredIdentity;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT")
        throw new Error(`cannot read the NATS identity in ${file}: ${(error as Error).message}`, {
          cause: error,
        });
      stored = {
        version: 1,
        operator: seedText(createOperator()),
        systemAccount: seedText(createAccount()),
        account: seedText(createAccount()),
        accountSigning: seedText(createAccount()),
        server: seedText(createUser()),
      };
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      // Exclusive: two processes starting at once keep the first one's identity.
      try {
        fs.writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600, flag: "wx" });
      } catch (writeError) {
        if ((writeError as NodeJS.ErrnoException).code !== "EEXIST") throw writeError;
        return NatsIdentity.loadOrCreate(dir);
      }
    }
    try {
      return new NatsIdentity(
        pair(stored.operator),
        pair(stored.systemAccount),
        pair(stored.account),
        pair(stored.accountSigning),
        pair(stored.server),
      );
    } catch {
      // The message says which file, never what is in it.
      throw new Error(`the NATS identity in ${file} is not valid`);
    }
  }

  get operatorPublicKey(): string {
    return this.operator.getPublicKey();
  }
  get systemAccountPublicKey(): string {
    return this.systemAccount.getPublicKey();
  }
  get accountPublicKey(): string {
    return this.account.getPublicKey();
  }

  operatorJwt(): Promise<string> {
    return encodeOperator(
      "sluice",
      this.operator,
      { system_account: this.systemAccountPublicKey },
      { algorithm: Algorithms.v2 },
    );
  }

  systemAccountJwt(): Promise<string> {
    return encodeAccount(
      "SYS",
      this.systemAccount,
      {
        limits: UNLIMITED,
        exports: [
          { name: "account-monitoring-services", subject: "$SYS.REQ.ACCOUNT.*.*", type: "service" },
          { name: "account-monitoring-streams", subject: "$SYS.ACCOUNT.*.>", type: "stream" },
        ],
      } as Partial<Account>,
      { algorithm: Algorithms.v2, signer: this.operator },
    );
  }

  /**
   * The Sluice account: JetStream without limits, the signing key that signs users, and the
   * revocations (user public key → the time before which its JWTs no longer count).
   */
  accountJwt(revocations: Record<string, number> = {}): Promise<string> {
    return encodeAccount(
      "SLUICE",
      this.account,
      {
        limits: { ...UNLIMITED, ...JETSTREAM_UNLIMITED },
        signing_keys: [this.accountSigning.getPublicKey()],
        ...(Object.keys(revocations).length > 0 ? { revocations } : {}),
      } as Partial<Account>,
      { algorithm: Algorithms.v2, signer: this.operator },
    );
  }

  /** The server's own user: every subject of the account, no expiry (its key never leaves the data dir). */
  async serverCredentials(): Promise<{ jwt: string; seed: Uint8Array }> {
    const jwt = await encodeUser(
      "sluice-server",
      this.server,
      this.accountSigning,
      { issuer_account: this.accountPublicKey },
      { algorithm: Algorithms.v2 },
    );
    return { jwt, seed: this.server.getSeed() };
  }

  /** A user of the system account, for pushing account JWTs (revocations); valid for five minutes. */
  async systemCredentials(): Promise<{ jwt: string; seed: Uint8Array }> {
    const user = createUser();
    const jwt = await encodeUser(
      "sluice-system",
      user,
      this.systemAccount,
      {},
      { algorithm: Algorithms.v2, exp: Math.floor(Date.now() / 1000) + 300 },
    );
    return { jwt, seed: user.getSeed() };
  }

  /** An agent's user: its public key (the agent keeps the seed), its subjects, and when it expires. */
  agentUserJwt(
    publicKey: string,
    name: string,
    permissions: { publish: string[]; subscribe: string[] },
    expiresAt: Date,
  ): Promise<string> {
    const perms: Permissions = {
      pub: { allow: permissions.publish },
      sub: { allow: permissions.subscribe },
    };
    return encodeUser(
      name,
      publicKey,
      this.accountSigning,
      { issuer_account: this.accountPublicKey, ...perms, bearer_token: false },
      { algorithm: Algorithms.v2, exp: Math.floor(expiresAt.getTime() / 1000) },
    );
  }

  /**
   * A nats-server configuration that trusts this operator: the full resolver keeps account JWTs in
   * `resolverDir` and accepts updates signed by the operator (revocations), preloaded with the
   * system and Sluice accounts.
   */
  async serverConfig(options: NatsServerConfigOptions): Promise<string> {
    const q = (value: string) => JSON.stringify(value);
    return [
      "# Written by Sluice (server/src/messaging/nats-identity.ts): decentralized JWT authentication.",
      "# Regenerate rather than edit; the keys are in the server's data directory.",
      `listen: ${q(options.listen)}`,
      // An agent's user JWT lists its subjects (about 3 KB with the built-in providers): its CONNECT
      // line is longer than nats-server's default limit of 4 KB.
      "max_control_line: 32768",
      `jetstream: { store_dir: ${q(options.storeDir)} }`,
      `operator: ${q(await this.operatorJwt())}`,
      `system_account: ${q(this.systemAccountPublicKey)}`,
      `resolver: { type: full, dir: ${q(options.resolverDir)}, allow_delete: false, interval: "2m" }`,
      "resolver_preload: {",
      `  ${this.systemAccountPublicKey}: ${q(await this.systemAccountJwt())}`,
      `  ${this.accountPublicKey}: ${q(await this.accountJwt())}`,
      "}",
      ...(options.tls
        ? [`tls: { cert_file: ${q(options.tls.certFile)}, key_file: ${q(options.tls.keyFile)}, timeout: 5 }`]
        : []),
      "",
    ].join("\n");
  }
}
