import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { SMTPServer } from "smtp-server";

/** A self-signed certificate for 127.0.0.1, made with openssl in a fresh directory. */
export function selfSignedCertificate(): { certFile: string; keyFile: string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-cert-"));
  const certFile = path.join(dir, "cert.pem");
  const keyFile = path.join(dir, "key.pem");
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1",
     "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
    { stdio: "ignore" },
  ); // prettier-ignore
  return { certFile, keyFile, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface Received {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: any;
  /** The answer the receiver gave. */
  status: number;
  /** Sluice-Signature checked against the secret of the path (null: no secret for it). */
  signatureValid: boolean | null;
}

/**
 * An HTTPS server that records every POST. Per path: a secret whose `Sluice-Signature` it checks
 * (a bad signature is answered 401), and a number of requests to fail with 500 before succeeding.
 */
export async function startHttpsReceiver(cert: { certFile: string; keyFile: string }) {
  const received: Received[] = [];
  const secrets = new Map<string, string>();
  const failures = new Map<string, number>();
  const holds = new Map<string, number>();
  const held: Received[] = [];
  const delays = new Map<string, number>();
  const open = new Map<string, number>();
  const mostOpen = new Map<string, number>();
  const server = https.createServer(
    { cert: fs.readFileSync(cert.certFile), key: fs.readFileSync(cert.keyFile) },
    (req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk: string) => (body += chunk));
      req.on("end", () => {
        const p = req.url ?? "/";
        const secret = secrets.get(p);
        let signatureValid: boolean | null = null;
        if (secret !== undefined)
          signatureValid = verify(secret, String(req.headers["sluice-signature"] ?? ""), body);
        const failing = failures.get(p) ?? 0;
        let status = 200;
        if (signatureValid === false) status = 401;
        else if (failing > 0) {
          failures.set(p, failing - 1);
          status = 500;
        }
        let json: any = null;
        try {
          json = JSON.parse(body);
        } catch {
          // recorded as it is
        }
        const holding = holds.get(p) ?? 0;
        if (holding > 0) {
          // Never answered: the sender's attempt is cut off when it dies or its time limit ends.
          holds.set(p, holding - 1);
          held.push({ path: p, headers: req.headers, body, json, status: 0, signatureValid });
          return;
        }
        received.push({ path: p, headers: req.headers, body, json, status, signatureValid });
        const delay = delays.get(p) ?? 0;
        if (delay > 0) {
          // A slow receiver: how many requests it has open at once shows the sender's concurrency.
          open.set(p, (open.get(p) ?? 0) + 1);
          mostOpen.set(p, Math.max(mostOpen.get(p) ?? 0, open.get(p)!));
          setTimeout(() => {
            open.set(p, open.get(p)! - 1);
            res.writeHead(status, { "content-type": "text/plain" }).end("ok");
          }, delay);
          return;
        }
        res
          .writeHead(status, { "content-type": "text/plain" })
          .end(status === 200 ? "ok" : "try again later");
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (p: string) => `https://127.0.0.1:${port}${p}`,
    received,
    accepted: (p: string) => received.filter((r) => r.path === p && r.status === 200),
    expectSecret: (p: string, secret: string) => secrets.set(p, secret),
    failNext: (p: string, n: number) => failures.set(p, n),
    /** The next `n` requests to `p` get no answer at all; they are in `held`. */
    holdNext: (p: string, n: number) => holds.set(p, n),
    held,
    /** Answers requests to `p` after `ms`, and counts how many were open at once (`mostOpen`). */
    slow: (p: string, ms: number) => delays.set(p, ms),
    mostOpen: (p: string) => mostOpen.get(p) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Checks `t=<unix>,v1=<hex>` against HMAC-SHA256(secret, "<t>.<body>"), and that t is recent. */
export function verify(secret: string, header: string, body: string, toleranceSeconds = 300): boolean {
  const parts = Object.fromEntries(header.split(",").map((kv) => kv.split("=", 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds || !parts.v1) return false;
  const expected = crypto.createHmac("sha256", secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(parts.v1, "hex");
  return given.length === expected.length && crypto.timingSafeEqual(given, expected);
}

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** The raw message with quoted-printable soft breaks and =XX escapes undone. */
  decoded: string;
}

/**
 * A plain SMTP server (no STARTTLS, no auth) that keeps every message it accepts. `holdNextTo`
 * makes it read the next message to an address and never answer it (the sender's attempt hangs
 * until it dies or its time limit ends); such messages are in `held`, not in `mails`.
 */
export async function startSmtpReceiver() {
  const mails: ReceivedMail[] = [];
  const held: ReceivedMail[] = [];
  const holds = new Map<string, number>();
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onData(stream, session, callback) {
      let raw = "";
      stream.setEncoding("utf8");
      stream.on("data", (chunk: string) => (raw += chunk));
      stream.on("end", () => {
        const decoded = raw
          .replace(/=\r?\n/g, "")
          .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        const mail = {
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          decoded,
        };
        const holding = mail.to.find((address) => (holds.get(address) ?? 0) > 0);
        if (holding) {
          holds.set(holding, holds.get(holding)! - 1);
          held.push(mail);
          return;
        }
        mails.push(mail);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    held,
    holdNextTo: (address: string, n: number) => holds.set(address, n),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
