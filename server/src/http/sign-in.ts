import cors from "cors";
import express, { type Request, type RequestHandler, type Response, type Router } from "express";
import {
  CALLBACK_PATH,
  flowCookieName,
  safeNext,
  SignInRefused,
  START_PATH,
  type OidcSignIn,
} from "../auth/oidc-sign-in";
import { publicRoutes } from "../domain/policy";
import type { Logger } from "../logger";

type PublicRoute = keyof typeof publicRoutes;

/** A route of publicRoutes (domain/policy/operations.ts): the one list of what needs no token. */
function publicRoute(route: PublicRoute): RequestHandler {
  if (!Object.hasOwn(publicRoutes, route)) throw new Error(`${route} is not a public route`);
  return (_req, _res, next) => next();
}

/** The browser's cookies (the flows' binding cookies are all this server reads). */
function cookiesOf(req: Request): Record<string, string> {
  const cookies: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const equals = part.indexOf("=");
    if (equals <= 0) continue;
    const name = part.slice(0, equals).trim();
    if (!name.startsWith("sluice_oidc_")) continue;
    try {
      cookies[name] = decodeURIComponent(part.slice(equals + 1).trim());
    } catch {
      // not ours
    }
  }
  return cookies;
}

/** A redirect that no cache or Referer keeps (the session token is in it). */
function redirect(res: Response, location: string): void {
  res.setHeader("cache-control", "no-store");
  res.setHeader("referrer-policy", "no-referrer");
  res.redirect(302, location);
}

/**
 * Dashboard sign-in over HTTP (docs/ARCHITECTURE.md, "Sign-in"):
 * - `GET /auth/config`: which ways of signing in are on, for the sign-in page (CORS: any origin);
 * - `GET /auth/oidc/start?next=/path`: starts an OpenID Connect sign-in (auth/oidc-sign-in.ts);
 * - `GET /auth/oidc/callback`: the provider's redirect back; sends the browser to the dashboard's
 *   `/#token=…&next=…`, or to its sign-in page with `?error=…` (never a 5xx page).
 * The OIDC routes exist only when SLUICE_OIDC_ISSUER is set.
 */
export function signInRoutes(
  oidc: OidcSignIn | null,
  options: { dashboardUrl: string; secureCookies: boolean },
  logger: Logger,
): Router {
  const router = express.Router();
  const signInPage = (message: string, next = "/") =>
    `${options.dashboardUrl}/signin?${new URLSearchParams({ error: message, next }).toString()}`;

  router.get("/auth/config", publicRoute("GET /auth/config"), cors(), (_req, res) => {
    res.setHeader("cache-control", "no-store");
    res.status(200).json({ sso: oidc ? { label: oidc.buttonLabel, startPath: START_PATH } : null });
  });
  if (!oidc) return router;

  router.get(START_PATH, publicRoute("GET /auth/oidc/start"), (req, res) => {
    const next = safeNext(req.query.next);
    oidc
      .start(next)
      .then(({ location, cookie }) => {
        res.cookie(cookie.name, cookie.value, {
          httpOnly: true,
          // Lax: sent on the provider's top-level redirect back, never on a cross-site subrequest.
          sameSite: "lax",
          secure: options.secureCookies,
          path: cookie.path,
          maxAge: cookie.maxAgeSeconds * 1000,
        });
        redirect(res, location);
      })
      .catch((error: unknown) => {
        if (!(error instanceof SignInRefused)) logger.error({ err: error }, "OpenID sign-in could not start");
        redirect(
          res,
          signInPage(
            error instanceof SignInRefused ? error.message : "Single sign-on could not start. Try again.",
            next,
          ),
        );
      });
  });

  router.get(CALLBACK_PATH, publicRoute("GET /auth/oidc/callback"), (req, res) => {
    const query = new URLSearchParams(req.url.slice(req.url.indexOf("?") + 1 || req.url.length));
    const cookies = cookiesOf(req);
    const requestId =
      typeof res.getHeader("x-request-id") === "string" ? String(res.getHeader("x-request-id")) : null;
    // This flow's cookie is spent whatever the outcome (other tabs' flows keep theirs).
    const state = query.get("state");
    if (state && cookies[flowCookieName(state)] !== undefined) {
      res.clearCookie(flowCookieName(state), {
        path: CALLBACK_PATH,
        httpOnly: true,
        sameSite: "lax",
        secure: options.secureCookies,
      });
    }
    oidc
      .finish(query, cookies, requestId)
      .then(({ token, next }) => {
        redirect(res, `${options.dashboardUrl}/#${new URLSearchParams({ token, next }).toString()}`);
      })
      .catch((error: unknown) => {
        redirect(
          res,
          signInPage(error instanceof SignInRefused ? error.message : "Signing in failed. Try again."),
        );
      });
  });
  return router;
}
