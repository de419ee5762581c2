/**
 * A minimal GraphQL-over-HTTP client on Node's global fetch. Requests are POSTs with a JSON body;
 * `apollo-require-preflight` satisfies Apollo Server's CSRF prevention. Failures are typed:
 * - ConnectionError: the endpoint could not be reached (refused, DNS, reset...).
 * - GraphQLRequestError: the server answered with a non-empty `errors` array.
 * - ResponseError: the server answered with something that is not a GraphQL response.
 */

export interface ValidationIssue {
  path: string;
  message: string;
}

export interface GraphQLErrorExtensions {
  code?: string;
  validationErrors?: ValidationIssue[];
  [key: string]: unknown;
}

export interface GraphQLErrorEntry {
  message: string;
  path?: (string | number)[];
  extensions?: GraphQLErrorExtensions;
}

export type Variables = Record<string, unknown>;

/** Sends one operation and resolves with its `data`. */
export type GraphQLClient = <T>(query: string, variables?: Variables) => Promise<T>;

export interface ClientOptions {
  endpoint: string;
  token?: string | undefined;
  /** Defaults to the global fetch; injectable for tests. */
  fetch?: typeof fetch;
}

export class GraphQLRequestError extends Error {
  constructor(
    readonly errors: GraphQLErrorEntry[],
    readonly status: number,
  ) {
    super(errors.map((e) => e.message).join("; "));
    this.name = "GraphQLRequestError";
  }

  /** `extensions.code` of the first error that has one. */
  get code(): string | undefined {
    return this.errors.find((e) => e.extensions?.code)?.extensions?.code;
  }
}

export class ConnectionError extends Error {
  constructor(
    readonly endpoint: string,
    readonly reason: string,
    /** What went wrong with the endpoint, e.g. "lost the connection to" for a socket that dropped. */
    failure = "could not connect to",
  ) {
    super(`${failure} ${endpoint}: ${reason}`);
    this.name = "ConnectionError";
  }
}

export class ResponseError extends Error {
  constructor(
    readonly endpoint: string,
    readonly status: number,
    detail: string,
  ) {
    super(`unexpected response from ${endpoint} (HTTP ${status}): ${detail}`);
    this.name = "ResponseError";
  }
}

export function createClient(options: ClientOptions): GraphQLClient {
  const doFetch = options.fetch ?? fetch;
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/json",
    "apollo-require-preflight": "true",
  };
  if (options.token) headers["authorization"] = `Bearer ${options.token}`;

  return async <T>(query: string, variables: Variables = {}): Promise<T> => {
    let status: number;
    let ok: boolean;
    let text: string;
    try {
      const response = await doFetch(options.endpoint, {
        method: "POST",
        headers,
        body: JSON.stringify({ query, variables }),
      });
      status = response.status;
      ok = response.ok;
      text = await response.text();
    } catch (err) {
      throw new ConnectionError(options.endpoint, describeFetchFailure(err));
    }
    return interpretResponse<T>(options.endpoint, status, ok, text);
  };
}

function interpretResponse<T>(endpoint: string, status: number, ok: boolean, text: string): T {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ResponseError(endpoint, status, `not JSON: ${snippet(text)}`);
  }
  if (!isObject(body)) throw new ResponseError(endpoint, status, `not a GraphQL response: ${snippet(text)}`);

  const errors = body["errors"];
  if (Array.isArray(errors) && errors.length > 0) {
    throw new GraphQLRequestError(errors.map(toErrorEntry), status);
  }
  if (!ok) throw new ResponseError(endpoint, status, snippet(text));
  const data = body["data"];
  if (!isObject(data)) throw new ResponseError(endpoint, status, "the response has no data");
  return data as T;
}

export function toErrorEntry(raw: unknown): GraphQLErrorEntry {
  if (!isObject(raw)) return { message: String(raw) };
  const entry: GraphQLErrorEntry = {
    message: typeof raw["message"] === "string" ? raw["message"] : JSON.stringify(raw),
  };
  if (Array.isArray(raw["path"])) entry.path = raw["path"] as (string | number)[];
  if (isObject(raw["extensions"])) entry.extensions = raw["extensions"] as GraphQLErrorExtensions;
  return entry;
}

/**
 * undici reports `TypeError: fetch failed` with the socket error (or an AggregateError of them) as
 * `cause`. Duck-typed rather than `instanceof`, which fails across realms (e.g. under jest).
 */
export function describeFetchFailure(err: unknown): string {
  const outer = asErrorLike(err);
  let cause = asErrorLike(outer?.cause) ?? outer;
  if (Array.isArray(cause?.errors) && cause.errors.length > 0) cause = asErrorLike(cause.errors[0]) ?? cause;
  if (typeof cause?.message === "string" && cause.message) return cause.message;
  if (typeof cause?.code === "string") return cause.code;
  return typeof outer?.message === "string" && outer.message ? outer.message : String(err);
}

interface ErrorLike {
  message?: string;
  code?: unknown;
  cause?: unknown;
  errors?: unknown;
}

function asErrorLike(value: unknown): ErrorLike | undefined {
  return typeof value === "object" && value !== null ? (value as ErrorLike) : undefined;
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  if (flat === "") return "(empty body)";
  return flat.length > 200 ? `${flat.slice(0, 200)}...` : flat;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
