"use client";

import { Client, fetchExchange } from "@urql/core";
import { useState, type FormEvent } from "react";
import { graphql } from "@/gql";

const SIGN_IN = graphql(`
  mutation SignIn($name: String!, $password: String!) {
    signInV2(input: { name: $name, password: $password }) {
      token
      expiresAt
      principal
    }
  }
`);

/**
 * Name and password: signInV2 answers a session token (an API token that expires after
 * SLUICE_SESSION_TTL), which the page keeps like any token. The server's refusal is shown as it
 * is: the same for a wrong name or password, and when to try again after repeated failures.
 */
export function PasswordForm({
  endpoint,
  onSignedIn,
}: {
  endpoint: string;
  onSignedIn(token: string): void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const name = String(form.get("name") ?? "").trim();
    const password = String(form.get("password") ?? "");
    if (!name || !password) return setError("Enter your user name and password.");
    setBusy(true);
    // No token yet: a client of its own, without one.
    const client = new Client({ url: endpoint, exchanges: [fetchExchange], preferGetMethod: false });
    const result = await client.mutation(SIGN_IN, { name, password }).toPromise();
    setBusy(false);
    if (result.data?.signInV2) return onSignedIn(result.data.signInV2.token);
    setError(
      result.error?.graphQLErrors[0]?.message ??
        (result.error?.networkError
          ? `The Sluice server at ${endpoint} does not answer.`
          : "Sign-in failed."),
    );
  };
  return (
    <form onSubmit={submit} aria-busy={busy}>
      <label htmlFor="signin-name">User name</label>
      <input id="signin-name" name="name" type="text" autoComplete="username" required />
      <label htmlFor="signin-password">Password</label>
      <input id="signin-password" name="password" type="password" autoComplete="current-password" required />
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
  );
}
