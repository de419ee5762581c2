"use client";

import { useState, type FormEvent } from "react";
import { checkToken } from "@/graphql/session";

/** An API token (the admin token `npm start` prints, or one made with create-api-token), checked first. */
export function TokenForm({ endpoint, onSignedIn }: { endpoint: string; onSignedIn(token: string): void }) {
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
    onSignedIn(token);
  };
  return (
    <form onSubmit={submit} aria-busy={busy}>
      <p className="muted">
        <code>npm start</code> prints a sign-in link with the admin token.
      </p>
      <label htmlFor="token">API token</label>
      <input id="token" name="token" type="password" autoComplete="off" required />
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      <div className="buttons">
        <button type="submit" disabled={busy}>
          Sign in with the token
        </button>
      </div>
    </form>
  );
}
