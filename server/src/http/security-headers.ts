import helmet from "helmet";
import type { RequestHandler } from "express";

/**
 * Security headers on every response (helmet): the API and GraphiQL may not be framed
 * (frame-ancestors 'none', X-Frame-Options DENY), no Referer leaves, no MIME sniffing, and a
 * Content-Security-Policy that allows only this server's scripts (GraphiQL's are served here).
 * Strict-Transport-Security is left to the TLS proxy in front: the server itself speaks plain HTTP.
 * Cross-origin reads stay allowed: the dashboard and the CLI are other origins (CORS decides).
 */
export function securityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      directives: {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        // GraphiQL's page has one <style> block and its editor sets inline styles.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
        // Not helmet's default upgrade-insecure-requests: the server speaks plain HTTP behind its proxy.
        "upgrade-insecure-requests": null,
      },
    },
    frameguard: { action: "deny" },
    referrerPolicy: { policy: "no-referrer" },
    strictTransportSecurity: false,
    crossOriginResourcePolicy: { policy: "cross-origin" },
  });
}
