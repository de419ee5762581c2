import type { RequestHandler } from "express";
import type { Authenticator } from "../auth/authenticate";
import { agentPrincipal, isAllowed } from "../auth/principal";
import type { AgentStore } from "../persistence/agent-store";

/**
 * An HTTP route's authorization, by the same token check and permission function as the GraphQL
 * API: 401 without a valid token, 403 when its principal may not do `action`. `anonymous` lets
 * every request through (a route the operator made public, e.g. SLUICE_METRICS_PUBLIC).
 */
export function requirePermission(
  authenticator: Authenticator,
  action: string,
  anonymous = false,
): RequestHandler {
  return (req, res, next) => {
    if (anonymous) return next();
    const principal = authenticator.authenticate(req.headers.authorization);
    if (principal === null) {
      res
        .status(401)
        .json({ error: "A valid token is required: send it as `Authorization: Bearer <token>`." });
      return;
    }
    if (!isAllowed(principal, action)) {
      res.status(403).json({ error: `This token is not allowed ${action}.` });
      return;
    }
    next();
  };
}

/**
 * An agent token's authorization on an HTTP route, by the same permission function: 401 without a
 * valid (known, not revoked) agent token, 403 when an agent may not do `action`. The token's row is
 * left in `res.locals.agentToken` and its principal in `res.locals.principal`.
 */
export function requireAgentPermission(agents: AgentStore, action: string): RequestHandler {
  return (req, res, next) => {
    const header = req.headers.authorization;
    const token = typeof header === "string" ? header.replace(/^Bearer\s+/i, "").trim() : "";
    if (!token) {
      res
        .status(401)
        .json({ error: "An agent token is required: send it as `Authorization: Bearer <token>`." });
      return;
    }
    agents
      .authenticate(token)
      .then((row) => {
        if (!row) {
          res.status(401).json({ error: "The agent token is unknown or was revoked." });
          return;
        }
        const principal = agentPrincipal(row.id);
        if (!isAllowed(principal, action)) {
          res.status(403).json({ error: `This token is not allowed ${action}.` });
          return;
        }
        res.locals.agentToken = row;
        res.locals.principal = principal;
        next();
      })
      .catch(next);
  };
}
