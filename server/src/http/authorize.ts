import type { Request, RequestHandler } from "express";
import type { Authenticator } from "../auth/authenticate";
import { authorize } from "../auth/authorization";
import { agentPrincipal, DEFAULT_ACCOUNT, type Principal } from "../auth/principal";
import { refusedAccess, type RefusedReads } from "../auth/refused-reads";
import { formatSrn, routePermissions, type ResourceLookups } from "../domain/policy";
import type { AgentStore } from "../persistence/agent-store";

/** What the routes' checks need: the token check and the lookups of execution ids. */
export interface RouteAuthorization {
  authenticator: Authenticator;
  lookups: ResourceLookups;
  /** Where refusals are counted for the audit log (within a budget: auth/refused-reads.ts). */
  refusedReads?: RefusedReads;
}

export type RouteKey = keyof typeof routePermissions;

const STATUS = { FORBIDDEN: 403, NOT_FOUND: 404, BAD_USER_INPUT: 400 } as const;

/**
 * An HTTP route's authorization, by the same token check and the same decision
 * (auth/authorization.ts) as the GraphQL API, from the route's entry in routePermissions (its
 * action, and its resource from the path's parameters): 401 without a valid token, 403 naming the
 * action and resource denied, 404 for an execution the caller may not know of. `anonymous` lets
 * every request through (a route the operator made public, e.g. SLUICE_METRICS_PUBLIC). The
 * principal is left in `res.locals.principal`. A refusal is counted for the audit log as a refused
 * query is: one row per principal, route and resource per window (auth/refused-reads.ts).
 */
export function requirePermission(
  auth: RouteAuthorization,
  route: RouteKey,
  anonymous = false,
): RequestHandler {
  return (req, res, next) => {
    if (anonymous) return next();
    void (async () => {
      const principal = await auth.authenticator.authenticate(req.headers.authorization);
      const refused = async (outcome: string, message: string) => {
        if (!auth.refusedReads) return;
        const requestId = res.getHeader("x-request-id");
        auth.refusedReads.refusedBy(principal, {
          operation: route,
          outcome,
          message,
          access: await refusedAccess(routePermissions[route], paramsOf(req), principal),
          pipelineName: null,
          requestId: typeof requestId === "string" ? requestId : null,
        });
      };
      if (principal === null) {
        const message = "A valid token is required: send it as `Authorization: Bearer <token>`.";
        await refused("UNAUTHENTICATED", message);
        res.status(401).json({ error: message });
        return;
      }
      const result = await authorize(principal, routePermissions[route], paramsOf(req), auth.lookups);
      if (!result.ok) {
        await refused(result.code, result.message);
        res.status(STATUS[result.code]).json({ error: result.message, code: result.code });
        return;
      }
      res.locals.principal = principal satisfies Principal;
      next();
    })().catch(next);
  };
}

function paramsOf(req: Request): Record<string, unknown> {
  return { ...req.params };
}

/**
 * An agent token's authorization on an HTTP route, by the same policy evaluation: 401 without a
 * valid (known, not revoked) agent token, 403 when an agent may not do `action` on the
 * installation. The token's row is left in `res.locals.agentToken` and its principal in
 * `res.locals.principal`. With `refused`, each refusal is counted for the audit log as a refused
 * read is (one row per principal, route and resource per window: auth/refused-reads.ts), named
 * `refused.operation`.
 */
export function requireAgentPermission(
  agents: AgentStore,
  action: string,
  refused?: { reads: RefusedReads; operation: string },
): RequestHandler {
  const installation = formatSrn(DEFAULT_ACCOUNT, { type: "installation" });
  return (req, res, next) => {
    const refuse = (principal: Principal | null, status: 401 | 403, outcome: string, message: string) => {
      const requestId = res.getHeader("x-request-id");
      refused?.reads.refusedBy(principal, {
        operation: refused.operation,
        outcome,
        message,
        access: { action, resource: installation },
        pipelineName: null,
        requestId: typeof requestId === "string" ? requestId : null,
      });
      res.status(status).json({ error: message });
    };
    const header = req.headers.authorization;
    const token = typeof header === "string" ? header.replace(/^Bearer\s+/i, "").trim() : "";
    if (!token) {
      refuse(
        null,
        401,
        "UNAUTHENTICATED",
        "An agent token is required: send it as `Authorization: Bearer <token>`.",
      );
      return;
    }
    agents
      .authenticate(token)
      .then((row) => {
        if (!row) {
          refuse(null, 401, "UNAUTHENTICATED", "The agent token is unknown or was revoked.");
          return;
        }
        const principal = agentPrincipal(row.id);
        if (principal.policies.evaluate(action, installation).decision !== "ALLOW") {
          refuse(principal, 403, "FORBIDDEN", `This token is not allowed ${action} on ${installation}.`);
          return;
        }
        res.locals.agentToken = row;
        res.locals.principal = principal;
        next();
      })
      .catch(next);
  };
}
