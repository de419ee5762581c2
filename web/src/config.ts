/** The dashboard's run-time configuration: the one reader of process.env, read on each request. */
export interface WebConfig {
  /** The GraphQL endpoint the browser talks to (HTTP; its WebSocket is the same URL as ws:). Default http://localhost:4000/graphql. */
  endpoint: string;
  /**
   * The same server as the dashboard's own server side reaches it (the artifact download relay):
   * SLUICE_INTERNAL_ENDPOINT, or `endpoint`. They differ in a container network, where the
   * browser's address (localhost) is not the server's.
   */
  internalEndpoint: string;
}

export const DEFAULT_ENDPOINT = "http://localhost:4000/graphql";

export function readConfig(env: NodeJS.ProcessEnv = process.env): WebConfig {
  const endpoint = httpUrl("SLUICE_ENDPOINT", env.SLUICE_ENDPOINT?.trim() || DEFAULT_ENDPOINT);
  const internal = env.SLUICE_INTERNAL_ENDPOINT?.trim();
  return { endpoint, internalEndpoint: internal ? httpUrl("SLUICE_INTERNAL_ENDPOINT", internal) : endpoint };
}

function httpUrl(variable: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${variable} is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`${variable} must be an http(s) URL, not ${url.protocol}`);
  return url.toString();
}
