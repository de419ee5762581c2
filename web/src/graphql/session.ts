/** The API token, kept for this browser tab's session only (sessionStorage). Browser only. */
const KEY = "sluice.token";

export function readToken(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
}

/** Only paths of this dashboard, never another site (`//host`, `/\\host`, `https://…`). */
export function safeNextPath(next: string | null): string | null {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return null;
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f\\]/.test(next) ? null : next;
}

/**
 * A sign-in link (`/#token=...` or `/?token=...`, as `npm start` prints, or single sign-on's
 * redirect `/#token=...&next=/path`) signs in once: the token goes to sessionStorage and out of the
 * address bar and history. Returns where to go next (a path of this dashboard), or null.
 */
export function takeTokenFromUrl(): string | null {
  const url = new URL(window.location.href);
  const hash = new URLSearchParams(url.hash.replace(/^#/, ""));
  const token = hash.get("token") ?? url.searchParams.get("token");
  if (!token) return null;
  saveToken(token);
  const next = safeNextPath(hash.get("next"));
  hash.delete("token");
  hash.delete("next");
  url.searchParams.delete("token");
  const rest = hash.toString();
  window.history.replaceState(window.history.state, "", url.pathname + url.search + (rest ? `#${rest}` : ""));
  return next;
}

/** Checks a token against the API; resolves with the refusal's message, or null when it works. */
export async function checkToken(endpoint: string, token: string): Promise<string | null> {
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "{ agentsV2(status: online, first: 1) { totalCount } }" }),
    });
  } catch {
    return `The Sluice server at ${endpoint} does not answer.`;
  }
  const body = (await response.json().catch(() => null)) as {
    errors?: Array<{ message: string; extensions?: { code?: string } }>;
  } | null;
  const error = body?.errors?.[0];
  if (!error && response.ok) return null;
  if (error?.extensions?.code === "UNAUTHENTICATED") return "The server refused this token.";
  return error?.message ?? `The server answered ${response.status}.`;
}
