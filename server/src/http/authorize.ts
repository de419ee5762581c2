import type { RequestHandler } from "express";
import type { Authenticator } from "../auth/authenticate";
import { isAllowed } from "../auth/principal";

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
