/**
 * Registration (PROTOCOL.md 5.7): a core request with a 5 s timeout, retried with capped backoff
 * while no server answers or the server says Unavailable; any other refusal is final.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import {
  DEFAULT_ACCOUNT,
  TIMINGS,
  decode,
  encode,
  type MessageInput,
  type NatsNames,
} from "@sluice/protocol";
import type { Logger } from "../logger";
import { Backoff, errorMessage, sleep } from "./util";

export interface Registration {
  agentId: string;
  heartbeatIntervalSeconds: number;
  /** The server's protocol version. */
  protocolVersion: number;
  /** The server's message keys (trusted only without NATS credentials and --server-key, 11.5). */
  serverKeys?: string[];
  /** The account of the agent's token: its jobs are that account's pool's (PROTOCOL.md 3.3). */
  account: string;
}

/** A refusal the agent must not retry: it exits with the server's message. */
export class RegistrationRefused extends Error {
  override readonly name = "RegistrationRefused";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Registers, retrying until a server accepts or refuses for good. Rejects with RegistrationRefused,
 * or with an Error when `signal` aborts first.
 */
export async function register(
  nc: NatsConnection,
  names: NatsNames,
  request: MessageInput<"registerRequest">,
  logger: Logger,
  signal?: AbortSignal,
  backoff: Backoff = new Backoff(250, 10_000),
): Promise<Registration> {
  const subject = names.subjects.register;
  const payload = encode("registerRequest", request, subject);
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new Error("registration abandoned: the agent is stopping");
    let retryWhy: string;
    try {
      const reply = await nc.request(subject, payload, { timeout: TIMINGS.registerTimeoutMs });
      const decoded = decode("registerReply", reply.data, subject);
      if (!decoded.ok) {
        retryWhy = `unreadable reply: ${decoded.error.message}`;
      } else if (decoded.message.ok) {
        const { agentId, heartbeatIntervalSeconds, protocolVersion, serverKeys, account } = decoded.message;
        return {
          agentId,
          heartbeatIntervalSeconds,
          protocolVersion,
          ...(serverKeys ? { serverKeys } : {}),
          account: account ?? DEFAULT_ACCOUNT,
        };
      } else if (decoded.message.code === "Unavailable") {
        retryWhy = `the server is unavailable: ${decoded.message.error}`;
      } else {
        throw new RegistrationRefused(decoded.message.code, decoded.message.error);
      }
    } catch (error) {
      if (error instanceof RegistrationRefused) throw error;
      retryWhy = `no reply (${errorMessage(error)})`;
    }
    const delay = backoff.next();
    const log = attempt === 1 || attempt % 10 === 0 ? logger.warn.bind(logger) : logger.debug.bind(logger);
    log({ attempt, retryInMs: delay }, `registration not done: ${retryWhy}; retrying`);
    await sleep(delay, signal);
  }
}
