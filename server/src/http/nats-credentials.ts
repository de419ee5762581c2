import express, { type Router } from "express";
import {
  NATS_CREDENTIALS_PATH,
  natsCredentialsRequestSchema,
  type NatsCredentialsReply,
} from "@sluice/protocol";
import { ISSUE_NATS_CREDENTIALS, type Principal } from "../auth/principal";
import type { Logger } from "../logger";
import type { MessageSigner } from "../messaging/message-signer";
import type { NatsAuth } from "../messaging/nats-auth";
import type { AgentStore, AgentTokenRow } from "../persistence/agent-store";
import type { AuditStore } from "../persistence/audit-store";
import type { RefusedReads } from "../auth/refused-reads";
import { requireAgentPermission } from "./authorize";

const OPERATION = `POST ${NATS_CREDENTIALS_PATH}`;

/**
 * `POST /agents/nats-credentials` (PROTOCOL.md 11.2): an agent exchanges its Sluice agent token for
 * a short-lived NATS user. It sends its user public key, name, pool and providers; the server signs
 * a user JWT for that key with the agent's subjects only, and the public keys that sign the server's
 * messages (PROTOCOL.md 11.5). Every answer to a valid token is in the
 * audit log. Without NATS authentication (SLUICE_NATS_INSECURE=1) there is nothing to hand out: 409.
 */
export function natsCredentialRoutes(
  agents: AgentStore,
  natsAuth: NatsAuth | null,
  audit: AuditStore,
  logger: Logger,
  /** Its public keys go with the credentials: the agent trusts only messages they signed (11.5). */
  signer: MessageSigner,
  /** Where a refused token is counted for the audit log. */
  refusedReads?: RefusedReads,
): Router {
  const router = express.Router();
  router.post(
    NATS_CREDENTIALS_PATH,
    requireAgentPermission(
      agents,
      ISSUE_NATS_CREDENTIALS,
      refusedReads && { reads: refusedReads, operation: OPERATION },
    ),
    express.json({ limit: "64kb" }),
    async (req, res, next) => {
      const token = res.locals.agentToken as AgentTokenRow;
      const principal = res.locals.principal as Principal;
      const record = (
        outcome: string,
        error: string | null,
        args: Record<string, unknown>,
        target: string | null,
      ) =>
        audit.record({
          principal: principal.id,
          operation: OPERATION,
          pipelineName: null,
          target,
          arguments: args,
          outcome,
          error,
          requestId: (res.getHeader("x-request-id") as string | undefined) ?? null,
        });
      try {
        if (!natsAuth) {
          res.status(409).json({
            error:
              "This server uses NATS without authentication (SLUICE_NATS_INSECURE=1): connect without credentials.",
          });
          return;
        }
        const parsed = natsCredentialsRequestSchema.safeParse(req.body);
        if (!parsed.success) {
          const message = parsed.error.issues
            .map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`)
            .join("; ");
          await record("BAD_USER_INPUT", message, {}, null);
          res.status(400).json({ error: `Invalid request: ${message}` });
          return;
        }
        const request = parsed.data;
        const args = {
          name: request.name,
          pool: request.pool,
          providers: request.providers,
          publicKey: request.publicKey,
        };
        const credentials = await natsAuth.issue(token, request);
        if (!credentials) {
          await record("CONFLICT", "the public key belongs to another agent", args, null);
          res.status(409).json({ error: "This public key belongs to another agent: make a new key." });
          return;
        }
        await record("ok", null, args, `agent/${credentials.agentId}`);
        logger.info(
          {
            agentId: credentials.agentId,
            name: request.name,
            pool: request.pool,
            expiresAt: credentials.expiresAt,
          },
          "NATS credentials issued to an agent",
        );
        const trusted = await signer.trustedKeys();
        const retiring = trusted.filter((k) => k.retiresAt !== null);
        const reply: NatsCredentialsReply = {
          ...credentials,
          serverKeys: trusted.map((k) => k.publicKey),
          ...(retiring.length > 0
            ? {
                serverKeysRetiring: Object.fromEntries(
                  retiring.map((k) => [k.publicKey, k.retiresAt!.toISOString()]),
                ),
              }
            : {}),
        };
        res.status(200).json(reply);
      } catch (error) {
        next(error);
      }
    },
  );
  return router;
}
