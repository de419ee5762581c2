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

/**
 * A sign-in link (`/#token=...` or `/?token=...`, as `npm start` prints) signs in once: the token
 * goes to sessionStorage and out of the address bar and history.
 */
export function takeTokenFromUrl(): void {
  const url = new URL(window.location.href);
  const hash = new URLSearchParams(url.hash.replace(/^#/, ""));
  const token = hash.get("token") ?? url.searchParams.get("token");
  if (!token) return;
  saveToken(token);
  hash.delete("token");
  url.searchParams.delete("token");
  const rest = hash.toString();
  window.history.replaceState(window.history.state, "", url.pathname + url.search + (rest ? `#${rest}` : ""));
}

/** Checks a token against the API; resolves with the refusal's message, or null when it works. */
export async function checkToken(endpoint: string, token: string): Promise<string | null> {
  let response: Response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "{ agents(status: online) { id } }" }),
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
