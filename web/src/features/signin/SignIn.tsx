"use client";

import { useRouter } from "next/navigation";
import { useState, type FormEvent } from "react";
import { useSession } from "@/components/Providers";
import { checkToken, saveToken } from "@/graphql/session";
import { SsoSignIn } from "./SsoSignIn";

/** Only paths of this dashboard, never another site. */
function safeNext(): string {
  const next = new URLSearchParams(window.location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

/** Asks for the API token, checks it against the server, keeps it for this browser session. */
export function SignIn() {
  const { endpoint, signedIn } = useSession();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const token = String(new FormData(event.currentTarget).get("token") ?? "").trim();
    if (!token) return setError("Enter an API token.");
    setBusy(true);
    const refused = await checkToken(endpoint, token);
    setBusy(false);
    if (refused) return setError(refused);
    saveToken(token);
    signedIn(token);
    router.replace(safeNext());
  };
  return (
    <div className="signin">
      <h1>Sign in</h1>
      <p>
        The Sluice server at <code>{endpoint}</code> needs an API token. <code>npm start</code> prints a
        sign-in link with the admin token; it is kept for this browser session only.
      </p>
      <SsoSignIn />
      <form onSubmit={submit} aria-busy={busy}>
        <label htmlFor="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="current-password" required />
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
        <div className="buttons">
          <button type="submit" className="primary" disabled={busy}>
            Sign in
          </button>
        </div>
      </form>
    </div>
  );
}
