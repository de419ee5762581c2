import type { ValidationIssue } from "../errors";
import { hostProblem } from "./addresses";

/**
 * Where notifications go. A target is shared by any number of rules. Its secret parts (the
 * webhook's HMAC secret, the token path of a Slack or Teams incoming-webhook URL) are never
 * returned by the API: they come back as `****`, and `****` sent back keeps the stored value.
 */
export const TARGET_KINDS = ["WEBHOOK", "SLACK", "TEAMS", "EMAIL", "NATS"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

export const MASK = "****";

export interface TargetSettings {
  /** WEBHOOK, SLACK, TEAMS: where to POST (https). */
  url?: string | null;
  /** WEBHOOK: the HMAC-SHA256 key of `Sluice-Signature`. */
  secret?: string | null;
  /** WEBHOOK: extra request headers. */
  headers?: Array<{ name: string; value: string }> | null;
  /** EMAIL: recipients. */
  emailAddresses?: string[] | null;
  /** NATS: the subject under the notification prefix (`<prefix>_notify.<subject>`). */
  subject?: string | null;
}

export interface TargetInput extends TargetSettings {
  name: string;
  kind: TargetKind;
}

/** Header names Sluice sets itself, or that would change how the request is framed. */
const RESERVED_HEADERS =
  /^(host|content-length|content-type|transfer-encoding|connection|sluice-.*|user-agent|expect|upgrade|te|trailer)$/i;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
// The WHATWG "valid e-mail address" production: what a browser's <input type=email> accepts.
const EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
export const TARGET_NAME = /^[A-Za-z0-9._-]{1,100}$/;

export interface TargetRules {
  /** Whether plain http:// URLs are accepted (SLUICE_NOTIFY_ALLOW_HTTP; https only by default). */
  allowHttp: boolean;
  /** Whether URLs may point at loopback, private or link-local hosts (SLUICE_NOTIFY_ALLOW_PRIVATE). */
  allowPrivate: boolean;
}

function urlIssue(value: string | null | undefined, rules: TargetRules): string | null {
  if (!value) return "is required";
  if (value.length > 2000) return "must be at most 2000 characters";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute URL such as https://hooks.example.com/sluice";
  }
  if (url.protocol !== "https:" && !(rules.allowHttp && url.protocol === "http:")) {
    return rules.allowHttp ? "must be an http or https URL" : "must be an https URL";
  }
  if (url.username || url.password) return "must not contain a user name or password";
  const local = rules.allowPrivate ? null : hostProblem(url.hostname);
  if (local) {
    return `must point to a public host: ${url.hostname} ${local} (SLUICE_NOTIFY_ALLOW_PRIVATE=true allows it)`;
  }
  return null;
}

/** Every problem of a target's settings, with the path of its field (`input.url`, `input.headers[1].name`). */
export function targetIssues(input: TargetInput, rules: TargetRules, base = "input"): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const at = (field: string, message: string) => issues.push({ path: `${base}.${field}`, message });
  if (!TARGET_NAME.test(input.name)) at("name", "must be 1–100 characters from A-Z a-z 0-9 . _ -");
  switch (input.kind) {
    case "WEBHOOK":
    case "SLACK":
    case "TEAMS": {
      const problem = input.url === MASK ? null : urlIssue(input.url, rules);
      if (problem) at("url", problem);
      break;
    }
    case "EMAIL": {
      const addresses = input.emailAddresses ?? [];
      if (addresses.length === 0) at("emailAddresses", "needs at least one address");
      if (addresses.length > 50) at("emailAddresses", "may hold at most 50 addresses");
      addresses.forEach((address, i) => {
        if (address.length > 254 || !EMAIL.test(address)) {
          at(`emailAddresses[${i}]`, `"${address.slice(0, 100)}" is not an e-mail address`);
        }
      });
      break;
    }
    case "NATS": {
      const subject = input.subject ?? "";
      const tokens = subject.split(".");
      if (!subject) at("subject", "is required");
      else if (tokens.length > 8 || !tokens.every((t) => SUBJECT_TOKEN.test(t))) {
        at("subject", "must be 1–8 dot-separated tokens of A-Z a-z 0-9 _ - (no wildcards)");
      }
      break;
    }
  }
  if (input.kind === "WEBHOOK") {
    if (input.secret !== undefined && input.secret !== null && input.secret !== MASK) {
      if (input.secret.length < 16 || input.secret.length > 200) at("secret", "must be 16–200 characters");
    }
    const headers = input.headers ?? [];
    if (headers.length > 20) at("headers", "may hold at most 20 headers");
    headers.forEach((header, i) => {
      if (!HEADER_NAME.test(header.name)) at(`headers[${i}].name`, "is not a valid header name");
      else if (RESERVED_HEADERS.test(header.name))
        at(`headers[${i}].name`, `${header.name} is set by Sluice`);
      if (header.value !== MASK && (header.value.length > 1000 || /[\r\n\0]/.test(header.value))) {
        at(`headers[${i}].value`, "must be at most 1000 characters without line breaks");
      }
    });
  } else {
    for (const field of ["secret", "headers"] as const) {
      if (input[field] != null) at(field, `only WEBHOOK targets have ${field}`);
    }
  }
  if (input.kind !== "EMAIL" && input.emailAddresses != null) {
    at("emailAddresses", "only EMAIL targets have emailAddresses");
  }
  if (input.kind !== "NATS" && input.subject != null) at("subject", "only NATS targets have a subject");
  if ((input.kind === "EMAIL" || input.kind === "NATS") && input.url != null) {
    at("url", `${input.kind} targets have no url`);
  }
  return issues;
}

/** An incoming-webhook URL carries its credential in the path: only its origin is shown. */
export function maskedUrl(kind: TargetKind, url: string | null | undefined): string | null {
  if (!url) return null;
  if (kind === "WEBHOOK") return url;
  try {
    return `${new URL(url).origin}/${MASK}`;
  } catch {
    return MASK;
  }
}

/** The settings as the API shows them: secrets masked. */
export function visibleSettings(kind: TargetKind, settings: TargetSettings): TargetSettings {
  return {
    url: maskedUrl(kind, settings.url),
    secret: settings.secret ? MASK : null,
    // Header values are often credentials (Authorization: Bearer …): shown masked.
    headers: settings.headers?.map((h) => ({ name: h.name, value: MASK })) ?? null,
    emailAddresses: settings.emailAddresses ?? null,
    subject: settings.subject ?? null,
  };
}

/** An update's settings: `****` (or an absent secret) keeps the stored value of that field. */
export function mergedSettings(
  stored: TargetSettings,
  update: TargetSettings,
  kind: TargetKind,
): TargetSettings {
  const keep = <T>(next: T | null | undefined, old: T | null | undefined): T | null =>
    next === MASK ? (old ?? null) : (next ?? null);
  const oldHeaders = new Map((stored.headers ?? []).map((h) => [h.name.toLowerCase(), h.value]));
  return {
    url: keep(update.url, stored.url),
    secret:
      kind === "WEBHOOK"
        ? update.secret === undefined
          ? (stored.secret ?? null)
          : keep(update.secret, stored.secret)
        : null,
    headers:
      update.headers?.map((h) => ({
        name: h.name,
        value: h.value === MASK ? (oldHeaders.get(h.name.toLowerCase()) ?? "") : h.value,
      })) ?? null,
    emailAddresses: update.emailAddresses ?? null,
    subject: update.subject ?? null,
  };
}
