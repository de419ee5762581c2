"use client";

import { useEffect, useState } from "react";
import { useSession } from "@/components/Providers";
import { safeNextPath } from "@/graphql/session";

interface SsoConfig {
  label: string;
  startPath: string;
}

/** The Sluice server's base URL (its GraphQL endpoint without `/graphql`). */
export function serverBase(endpoint: string): string {
  return endpoint.replace(/\/graphql\/?$/, "").replace(/\/+$/, "");
}

/**
 * Single sign-on on the sign-in page: the server's error of a sign-in that came back refused
 * (`?error=…`), and a "Sign in with SSO" button when the server has an OpenID provider
 * (GET /auth/config). The button leaves for the server's /auth/oidc/start, which comes back to
 * `/#token=…&next=…` (graphql/session.ts).
 */
export function SsoSignIn() {
  const { endpoint } = useSession();
  const [sso, setSso] = useState<SsoConfig | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [next, setNext] = useState("/");

  useEffect(() => {
    const params = new URLSearchParams(window.location.search);
    setError(params.get("error"));
    setNext(safeNextPath(params.get("next")) ?? "/");
    const controller = new AbortController();
    fetch(`${serverBase(endpoint)}/auth/config`, { signal: controller.signal })
      .then((response) => (response.ok ? response.json() : null))
      .then((body: { sso?: SsoConfig | null } | null) => setSso(body?.sso ?? null))
      // No SSO button when the server does not say (an older server, or it is away).
      .catch(() => undefined);
    return () => controller.abort();
  }, [endpoint]);

  if (!sso && !error) return null;
  return (
    <div className="sso">
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      {sso ? (
        <a
          className="button-link primary"
          href={`${serverBase(endpoint)}${sso.startPath}?${new URLSearchParams({ next }).toString()}`}
        >
          {sso.label}
        </a>
      ) : null}
    </div>
  );
}
