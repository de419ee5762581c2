/**
 * `Invoke/Sluice/Webhook@1`: calls a URL with the job's context as JSON, signed with HMAC-SHA256
 * when a Secret is configured, and succeeds on a 2xx answer.
 */
import { createHmac } from "node:crypto";
import { LIMITS } from "@sluice/protocol";
import { configurationError, parseStringMap, truncate } from "./environment";
import { failed, stopped } from "./results";
import type { JobContext, Provider, ProviderResult } from "./types";

export interface WebhookOptions {
  /** How long one request may take (default 30 s). */
  timeoutMs?: number;
}

const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);
/** Enough of a response body for the error details; the rest is not read. */
const MAX_BODY_BYTES = 64 * 1024;
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** The URL as logs and summaries show it: no credentials, no query string (tokens live there). */
export function displayUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? "?…" : ""}`;
}

async function readSome(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function createWebhookProvider(options: WebhookOptions = {}): Provider {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return {
    id: { category: "Invoke", owner: "Sluice", provider: "Webhook", version: "1" },
    async run(context: JobContext): Promise<ProviderResult> {
      const { job, log } = context;
      const rawUrl = job.configuration.Url?.trim() ?? "";
      if (rawUrl === "") return configurationError("Url is required: the address to call");
      let url: URL;
      try {
        url = new URL(rawUrl);
      } catch {
        return configurationError("Url is not a valid URL");
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        return configurationError(`Url must be http or https, not ${url.protocol.replace(/:$/, "")}`);
      }
      const method = (job.configuration.Method?.trim() || "POST").toUpperCase();
      if (!METHODS.has(method)) {
        return configurationError(
          `Method ${JSON.stringify(method)} is not one of ${[...METHODS].join(", ")}`,
        );
      }
      const custom = parseStringMap("Headers", job.configuration.Headers);
      if (!custom.ok) return configurationError(custom.message);

      const body =
        method === "GET"
          ? ""
          : JSON.stringify({
              pipelineName: job.pipelineName,
              stageName: job.stageName,
              actionName: job.actionName,
              executionId: job.executionId,
              jobId: job.jobId,
              attempt: job.attempt,
              sourceRevision: job.sourceRevision ?? null,
              variables: job.context.variables,
            });
      let headers: Headers;
      try {
        headers = new Headers({
          "content-type": "application/json",
          "user-agent": "sluice-agent",
          "x-sluice-delivery": `${job.jobId}:${job.attempt}`,
        });
        for (const [name, value] of Object.entries(custom.map)) headers.set(name, value);
      } catch {
        // The header's value may be a secret: name the problem, not the value.
        return configurationError("Headers holds a name or a value that is not valid in an HTTP header");
      }
      const secret = job.configuration.Secret;
      if (secret) {
        headers.set(
          "x-sluice-signature",
          `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
        );
      }

      const shown = `${method} ${displayUrl(url)}`;
      log.system(`${shown}${secret ? " (signed)" : ""}`);
      let response: Response;
      let text: string;
      try {
        response = await fetch(url, {
          method,
          headers,
          ...(method === "GET" ? {} : { body }),
          signal: AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]),
          redirect: "follow",
        });
        text = await readSome(response);
      } catch (error) {
        if (context.signal.aborted) return stopped(context);
        if ((error as Error).name === "TimeoutError") {
          return failed(
            "SystemUnavailable",
            `${shown} did not answer within ${timeoutMs / 1000} s`,
            "Timeout",
          );
        }
        const code = errorCode(error);
        const reason = code ?? (error as Error).message;
        // A certificate the agent does not trust will not heal by itself; a network problem may.
        const type =
          code !== undefined && !NETWORK_CODES.has(code) && /CERT|SELF_SIGNED|TLS|SSL/i.test(code)
            ? "ConfigurationError"
            : "SystemUnavailable";
        return failed(type, `${shown} could not be reached: ${reason}`, code ?? "RequestFailed");
      }

      const summary = `${shown} answered ${response.status}`;
      log.system(summary);
      if (response.ok) {
        return { outcome: "Succeeded", summary, outputVariables: { StatusCode: String(response.status) } };
      }
      const excerpt = text.slice(0, 500);
      return {
        ...failed(
          "JobFailed",
          summary,
          `HttpStatus${response.status}`,
          `HTTP ${response.status} ${response.statusText}${excerpt ? `: ${excerpt}` : ""}`,
        ),
        outputVariables: { StatusCode: String(response.status) },
        summary: truncate(summary, LIMITS.summaryLength),
      };
    },
  };
}
