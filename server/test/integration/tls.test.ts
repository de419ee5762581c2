/**
 * HTTPS: with SLUICE_TLS_CERT_FILE and SLUICE_TLS_KEY_FILE the API, its WebSocket (wss) and the
 * HTTP routes are served over TLS only; a client that trusts the certificate (the CLI through
 * NODE_EXTRA_CA_CERTS) works, one that does not is refused by TLS itself, plain HTTP gets no
 * answer; a renewed certificate is served to new connections after reloadTls (SIGHUP) without a
 * restart; a missing or mismatched file stops the start with the variable's name, and the key's
 * content is in no message.
 */
import { execFile } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import https from "node:https";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { selfSignedCertificate } from "../support/receivers";
import { ADMIN_TOKEN, startTestServer, type TestServer } from "../support/server";

jest.setTimeout(60_000);

const CLI = path.join(__dirname, "..", "..", "..", "cli", "bin", "sluice.cjs");
let cert: ReturnType<typeof selfSignedCertificate>;
let t: TestServer;

beforeAll(async () => {
  cert = selfSignedCertificate();
  t = await startTestServer({
    env: { SLUICE_TLS_CERT_FILE: cert.certFile, SLUICE_TLS_KEY_FILE: cert.keyFile },
  });
});
afterAll(async () => {
  await t?.stop();
  cert?.cleanup();
});

/** POSTs a GraphQL query over HTTPS trusting `ca`; the status and body. */
function post(url: string, query: string, ca: Buffer | undefined): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: "POST",
        ca,
        headers: { "content-type": "application/json", authorization: `Bearer ${ADMIN_TOKEN}` },
      },
      (response) => {
        let text = "";
        response.on("data", (chunk) => (text += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    request.on("error", reject);
    request.end(JSON.stringify({ query }));
  });
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to the server is given. */
function servedFingerprint(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.on("error", reject);
  });
}

it("serves the API over HTTPS to a client that trusts the certificate, and only over HTTPS", async () => {
  expect(t.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/graphql$/);
  const ca = fs.readFileSync(cert.certFile);
  const ok = await post(t.url, "{ version { server } }", ca);
  expect(ok.status).toBe(200);
  expect(ok.body.data.version.server).toMatch(/\d+\.\d+\.\d+/);

  // Not trusted: refused by TLS, before any request is made.
  await expect(post(t.url, "{ version { server } }", undefined)).rejects.toMatchObject({
    code: "DEPTH_ZERO_SELF_SIGNED_CERT",
  });
  // Plain HTTP to the same port: no HTTP answer with data.
  const plain = await new Promise<string>((resolve) => {
    const request = http.request(t.url.replace("https:", "http:"), { method: "POST" }, (response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => resolve(`HTTP ${response.statusCode}: ${text}`));
    });
    request.on("error", (error) => resolve(`error: ${(error as NodeJS.ErrnoException).code}`));
    request.end("{}");
  });
  expect(plain).not.toContain('"data"');
});

it("serves subscriptions over wss", async () => {
  const ca = fs.readFileSync(cert.certFile);
  class TrustingWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, { ca });
    }
  }
  const client = createClient({
    url: t.url.replace(/^https/, "wss"),
    webSocketImpl: TrustingWebSocket,
    connectionParams: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  try {
    const result = await new Promise<any>((resolve, reject) => {
      let data: unknown;
      client.subscribe(
        { query: "{ version { protocol } }" },
        { next: (r) => (data = r.data), error: reject, complete: () => resolve(data) },
      );
    });
    expect(result.version.protocol).toBeGreaterThan(0);
  } finally {
    await client.dispose();
  }
});

it("lets the CLI in when NODE_EXTRA_CA_CERTS names the certificate (as the README says)", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [CLI, "list-pipelines", "--output", "json"],
    {
      env: {
        PATH: process.env.PATH ?? "",
        SLUICE_ENDPOINT: t.url,
        SLUICE_TOKEN: ADMIN_TOKEN,
        NODE_EXTRA_CA_CERTS: cert.certFile,
      },
    },
  );
  expect(JSON.parse(stdout)).toHaveProperty("pipelines");
});

it("serves a renewed certificate to new connections after reloadTls, without a restart", async () => {
  const port = Number(new URL(t.url).port);
  const before = fs.readFileSync(cert.certFile);
  const renewed = selfSignedCertificate();
  try {
    const fresh = fs.readFileSync(renewed.certFile);
    expect(await servedFingerprint(port, before)).toBe(new crypto.X509Certificate(before).fingerprint256);
    // A bad pair (the new certificate with the old key) is refused and the current one stays.
    fs.copyFileSync(renewed.certFile, cert.certFile);
    expect(() => t.server.reloadTls()).toThrow(/not a usable pair/);
    fs.copyFileSync(renewed.keyFile, cert.keyFile);
    expect(t.server.reloadTls()).toBe(true);
    expect(await servedFingerprint(port, fresh)).toBe(new crypto.X509Certificate(fresh).fingerprint256);
    expect((await post(t.url, "{ version { server } }", fresh)).status).toBe(200);
  } finally {
    renewed.cleanup();
  }
});

it("does not start with a missing or mismatched file, and says which variable, never the key", async () => {
  const other = selfSignedCertificate();
  try {
    await expect(
      startTestServer({
        env: { SLUICE_TLS_CERT_FILE: cert.certFile, SLUICE_TLS_KEY_FILE: "/nonexistent/key.pem" },
      }),
    ).rejects.toThrow("SLUICE_TLS_KEY_FILE=/nonexistent/key.pem cannot be read: ENOENT");
    const mismatch = startTestServer({
      env: { SLUICE_TLS_CERT_FILE: cert.certFile, SLUICE_TLS_KEY_FILE: other.keyFile },
    });
    await expect(mismatch).rejects.toThrow(/not a usable pair/);
    const message = await mismatch.catch((e: Error) => e.message);
    expect(message).not.toContain("PRIVATE KEY");
    await expect(startTestServer({ env: { SLUICE_TLS_CERT_FILE: cert.certFile } })).rejects.toThrow(
      /SLUICE_TLS_KEY_FILE is missing/,
    );
  } finally {
    other.cleanup();
  }
});
