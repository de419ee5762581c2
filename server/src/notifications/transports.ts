import dns from "node:dns";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { headers } from "@nats-io/transport-node";
import { createTransport, type Transporter } from "nodemailer";
import { describeRange, nonPublicRange } from "../domain/notifications/addresses";
import type { NatsLink } from "../messaging/nats";

/** What one attempt came to. `error` never holds a secret (no URL credentials, no SMTP password). */
export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
}

const MAX_ERROR = 500;
const clip = (text: string) => (text.length > MAX_ERROR ? `${text.slice(0, MAX_ERROR)}…` : text);

/**
 * HTTPS POSTs with node's own client: a time limit over the whole exchange, no redirects followed
 * (a 3xx is a failure: a notification must not be re-aimed by the receiver), the system's CAs plus
 * SLUICE_NOTIFY_CA_FILE's, and the response body read only for the error message. Unless
 * `allowPrivate`, a host is connected to only when every address it resolves to is public: the check
 * runs on the addresses the socket will use (the request's own lookup), so a name that resolves to a
 * public address when saved and to 127.0.0.1 later is still refused.
 */
export class HttpTransport {
  private readonly agent: https.Agent;
  private readonly lookup: typeof dns.lookup | undefined;

  constructor(caFile: string | undefined, allowPrivate = false) {
    const ca = caFile ? [...tls.rootCertificates, readCaFile(caFile)] : undefined;
    this.agent = new https.Agent({ keepAlive: true, maxSockets: 64, ...(ca ? { ca } : {}) });
    this.lookup = allowPrivate ? undefined : (publicOnlyLookup as typeof dns.lookup);
  }

  post(
    url: string,
    body: string,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<AttemptOutcome> {
    const target = new URL(url);
    const client = target.protocol === "https:" ? https : http;
    if (this.lookup) {
      // An address literal is not looked up: check it here (a name is, in publicOnlyLookup).
      const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
      const range = net.isIP(host) ? nonPublicRange(host) : null;
      if (range) {
        return Promise.resolve({
          ok: false,
          statusCode: null,
          error: `${host} is a ${describeRange(range)} address: refused (SLUICE_NOTIFY_ALLOW_PRIVATE=true allows it)`,
        });
      }
    }
    return new Promise((resolve) => {
      let settled = false;
      const done = (outcome: AttemptOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const request = client.request(
        target,
        {
          method: "POST",
          headers: {
            ...headers,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
          ...(target.protocol === "https:" ? { agent: this.agent } : {}),
          ...(this.lookup ? { lookup: this.lookup } : {}),
        },
        (response) => {
          const status = response.statusCode ?? 0;
          let text = "";
          response.setEncoding("utf8");
          response.on("data", (chunk: string) => {
            if (text.length < MAX_ERROR) text += chunk;
          });
          response.on("end", () =>
            done(
              status >= 200 && status < 300
                ? { ok: true, statusCode: status, error: null }
                : {
                    ok: false,
                    statusCode: status,
                    error: clip(`HTTP ${status}${text.trim() ? `: ${text.trim()}` : ""}`),
                  },
            ),
          );
          response.on("error", (error) =>
            done({ ok: false, statusCode: status, error: clip(error.message) }),
          );
        },
      );
      const timer = setTimeout(() => {
        request.destroy(new Error(`no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      // The URL is not in the message: an incoming-webhook URL holds its credential.
      request.on("error", (error) =>
        done({ ok: false, statusCode: null, error: clip(`${target.host}: ${error.message}`) }),
      );
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** dns.lookup that fails when one of the host's addresses is not public (see HttpTransport). */
function publicOnlyLookup(
  hostname: string,
  options: dns.LookupOptions,
  callback: (
    error: NodeJS.ErrnoException | null,
    address: string | dns.LookupAddress[],
    family?: number,
  ) => void,
): void {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, "");
    for (const { address } of addresses) {
      const range = nonPublicRange(address);
      if (range) {
        const refused: NodeJS.ErrnoException = new Error(
          `resolves to a ${describeRange(range)} address (${address}): refused (SLUICE_NOTIFY_ALLOW_PRIVATE=true allows it)`,
        );
        refused.code = "ENOTPUBLIC";
        return callback(refused, "");
      }
    }
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first)
      return callback(Object.assign(new Error(`${hostname} has no address`), { code: "ENOTFOUND" }), "");
    callback(null, first.address, first.family);
  });
}

function readCaFile(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`SLUICE_NOTIFY_CA_FILE=${file} cannot be read: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** E-mail through one SMTP server (SLUICE_SMTP_URL); its password never reaches a message or log. */
export class EmailTransport {
  private readonly transporter: Transporter | null;
  private readonly password: string | null;

  constructor(
    private readonly smtpUrl: string | undefined,
    private readonly from: string,
    timeoutMs: number,
  ) {
    this.password = smtpUrl ? decodeURIComponent(new URL(smtpUrl).password) || null : null;
    this.transporter = smtpUrl
      ? createTransport(smtpUrl, {
          connectionTimeout: timeoutMs,
          greetingTimeout: timeoutMs,
          socketTimeout: timeoutMs,
          from,
        } as never)
      : null;
  }

  async send(to: string[], content: { subject: string; text: string; html: string }, messageId: string) {
    if (!this.transporter) {
      return { ok: false, statusCode: null, error: "no SMTP server is configured (SLUICE_SMTP_URL)" };
    }
    try {
      const info = await this.transporter.sendMail({
        from: this.from,
        to,
        subject: content.subject,
        text: content.text,
        html: content.html,
        // A stable Message-ID: mail systems drop a second copy of the same message.
        messageId: `<${messageId}@sluice>`,
        headers: { "Sluice-Message-Id": messageId },
      });
      const rejected = (info.rejected as unknown[]).length;
      if (rejected > 0) return { ok: false, statusCode: null, error: `${rejected} recipient(s) rejected` };
      const code = /^(\d{3})/.exec(String(info.response ?? ""))?.[1];
      return { ok: true, statusCode: code ? Number(code) : null, error: null };
    } catch (error) {
      const e = error as Error & { responseCode?: number; code?: string };
      let message = `${e.code ? `${e.code}: ` : ""}${e.message}`;
      if (this.password) message = message.split(this.password).join("****");
      return { ok: false, statusCode: e.responseCode ?? null, error: clip(message) };
    }
  }

  close(): void {
    this.transporter?.close();
  }
}

/**
 * Publishes to `<prefix>_notify.<subject>`: a root of its own, so that no subject a user picks is
 * one of the installation's (`<prefix>.…`, PROTOCOL.md 3.3). Core NATS, confirmed by a flush (the
 * server has it); `Nats-Msg-Id` carries the message id for a JetStream stream a user may put on it.
 */
export class NatsTransport {
  constructor(
    private readonly nats: NatsLink,
    private readonly root: string,
  ) {}

  subjectOf(subject: string): string {
    return `${this.root}.${subject}`;
  }

  async publish(
    subject: string,
    body: string,
    messageId: string,
    timeoutMs: number,
  ): Promise<AttemptOutcome> {
    const nc = this.nats.nats;
    if (!nc || nc.isClosed()) return { ok: false, statusCode: null, error: "NATS is not connected" };
    try {
      const h = headers();
      h.set("Nats-Msg-Id", messageId);
      h.set("Content-Type", "application/json");
      nc.publish(this.subjectOf(subject), body, { headers: h });
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          nc.flush(),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no flush within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
      return { ok: true, statusCode: null, error: null };
    } catch (error) {
      return { ok: false, statusCode: null, error: clip((error as Error).message) };
    }
  }
}
