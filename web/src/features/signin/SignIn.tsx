"use client";

import { useRouter } from "next/navigation";
import { useSession } from "@/components/Providers";
import { saveToken } from "@/graphql/session";
import { PasswordForm } from "./PasswordForm";
import { TokenForm } from "./TokenForm";
import { SsoSignIn } from "./SsoSignIn";

/** Only paths of this dashboard, never another site. */
function safeNext(): string {
  const next = new URLSearchParams(window.location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

/**
 * The sign-in page: a user name and password first, an API token behind a disclosure. Either way
 * the token is kept for this browser tab's session only (sessionStorage) and sent as
 * `Authorization: Bearer`.
 */
export function SignIn() {
  const { endpoint, signedIn } = useSession();
  const router = useRouter();
  const done = (token: string) => {
    saveToken(token);
    signedIn(token);
    router.replace(safeNext());
  };
  return (
    <div className="signin">
      <h1>Sign in</h1>
      <p>
        to the Sluice server at <code>{endpoint}</code>.
      </p>
      <SsoSignIn />
      <PasswordForm endpoint={endpoint} onSignedIn={done} />
      <details className="signin-other">
        <summary>Use an API token</summary>
        <TokenForm endpoint={endpoint} onSignedIn={done} />
      </details>
    </div>
  );
}
