"use client";

import { usePathname, useRouter } from "next/navigation";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { Provider } from "urql";
import { createSluiceClient, type ConnectionState } from "@/graphql/client";
import { clearToken, readToken, takeTokenFromUrl } from "@/graphql/session";
import { graphql } from "@/gql";
import { Header } from "./Header";

interface Session {
  endpoint: string;
  /** undefined until read in the browser; null when signed out. */
  token: string | null | undefined;
  connection: ConnectionState;
  /** Grows by one each time the socket comes back after a loss: pages fetch again. */
  reconnects: number;
  /** Signs out on the server (a password session is revoked), then forgets the token. */
  signOut(): Promise<void>;
  signedIn(token: string): void;
}

const SessionContext = createContext<Session | null>(null);

const SIGN_OUT = graphql(`
  mutation SignOut {
    signOutV2(input: {}) {
      signedOut
    }
  }
`);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSession outside <Providers>");
  return session;
}

/** Redirects to /signin (remembering where to come back) unless already there. */
function goToSignIn(router: ReturnType<typeof useRouter>) {
  const here = window.location.pathname + window.location.search;
  if (window.location.pathname !== "/signin") router.replace(`/signin?next=${encodeURIComponent(here)}`);
}

/**
 * The session (an API token, or a password sign-in's session token, in sessionStorage), the urql client built from it, and the state of
 * its socket. The endpoint comes from the server at request time (SLUICE_ENDPOINT).
 */
export function Providers({ endpoint, children }: { endpoint: string; children: ReactNode }) {
  const router = useRouter();
  const pathname = usePathname();
  const [token, setToken] = useState<string | null | undefined>(undefined);
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const [reconnects, setReconnects] = useState(0);

  useEffect(() => {
    // Single sign-on comes back with where the person was going.
    const next = takeTokenFromUrl();
    setToken(readToken());
    if (next && next !== window.location.pathname) router.replace(next);
  }, [router]);

  useEffect(() => {
    if (token === null && pathname !== "/signin") goToSignIn(router);
  }, [token, pathname, router]);

  const sluice = useMemo(() => {
    if (!token) return null;
    return createSluiceClient({
      endpoint,
      token,
      onUnauthenticated: () => {
        clearToken();
        setToken(null);
      },
      onConnectionState: setConnection,
      onReconnected: () => setReconnects((n) => n + 1),
    });
  }, [endpoint, token]);
  useEffect(() => () => sluice?.dispose(), [sluice]);

  const signOut = useCallback(async () => {
    // A password session is revoked on the server (its sockets close); an API token stays valid
    // (signOutV2 answers signedOut false) and is only forgotten here.
    await sluice?.client
      .mutation(SIGN_OUT, {})
      .toPromise()
      .catch(() => undefined);
    clearToken();
    setToken(null);
    goToSignIn(router);
  }, [router, sluice]);

  const session = useMemo<Session>(
    () => ({ endpoint, token, connection, reconnects, signOut, signedIn: setToken }),
    [endpoint, token, connection, reconnects, signOut],
  );

  let body: ReactNode;
  if (pathname === "/signin") body = children;
  else if (sluice) body = <Provider value={sluice.client}>{children}</Provider>;
  else body = <p className="muted">Signing in…</p>;
  return (
    <SessionContext.Provider value={session}>
      <Header />
      <main id="main" tabIndex={-1}>
        {body}
      </main>
    </SessionContext.Provider>
  );
}
