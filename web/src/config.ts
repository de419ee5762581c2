/** The dashboard's run-time configuration: the one reader of process.env, read on each request. */
export interface WebConfig {
  /** The GraphQL endpoint the browser talks to (HTTP; its WebSocket is the same URL as ws:). Default http://localhost:4000/graphql. */
  endpoint: string;
}

export const DEFAULT_ENDPOINT = "http://localhost:4000/graphql";

export function readConfig(env: NodeJS.ProcessEnv = process.env): WebConfig {
  const raw = env.SLUICE_ENDPOINT?.trim() || DEFAULT_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`SLUICE_ENDPOINT is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new Error(`SLUICE_ENDPOINT must be an http(s) URL, not ${url.protocol}`);
  return { endpoint: url.toString() };
}
