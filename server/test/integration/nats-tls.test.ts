/**
 * NATS over TLS with the installation's own CA, as `npm start` and docker-compose make it:
 * `nats-config.js --tls-generate` (the built one, as they run it) makes the local CA in the data
 * directory and a certificate for nats-server, writes the configuration with its `tls {}` block;
 * a real nats-server started on it refuses a client that does not speak TLS (and one that does not
 * trust the CA), and a server and an agent trusting the CA run a job to success over it.
 */
import { execFile, execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import tls from "node:tls";
import { promisify } from "node:util";
import { connect, jwtAuthenticator } from "@nats-io/transport-node";
import {
  NATS_TLS_CERT_FILE,
  NATS_TLS_KEY_FILE,
  RENEW_BEFORE_DAYS,
  certificateHosts,
  ensureLocalCa,
  issueCertificate,
} from "../../src/messaging/local-ca";
import { NatsIdentity } from "../../src/messaging/nats-identity";
import { killAgents, startAgentProcess, type AgentProcess } from "../support/agent-process";
import { freePort } from "../support/private-nats";
import { startNatsServerWithConfig, type SecuredNats } from "../support/secured-nats";
import { gitRepository, shellBuild, sourceThen } from "../support/documents";
import { dataOf, startTestServer, type TestServer } from "../support/server";
import { eventually } from "../support/wait";

jest.setTimeout(180_000);

const ROOT = path.join(__dirname, "..", "..", "..");
const NATS_CONFIG = path.join(__dirname, "..", "..", "dist", "src", "nats-config.js");

let dataDir: string;
let natsDir: string;
let scratch: string;
let port: number;
let nats: SecuredNats | undefined;
let t: TestServer | undefined;
let agent: AgentProcess | undefined;

const configFile = () => path.join(natsDir, "nats-server.conf");
const caFile = () => path.join(dataDir, "tls", "ca.pem");
const mode = (file: string) => fs.statSync(file).mode & 0o777;

/** `nats-config.js --tls-generate` as npm start runs it (scripts/ensure-services.mjs). */
async function generate(): Promise<string> {
  if (!fs.existsSync(NATS_CONFIG)) throw new Error(`${NATS_CONFIG} is missing: run \`npm run build\` first.`);
  const { stderr } = await promisify(execFile)(
    process.execPath,
    [
      NATS_CONFIG,
      "--listen", `127.0.0.1:${port}`,
      "--store", path.join(natsDir, "store"),
      "--resolver", path.join(natsDir, "jwt"),
      "--tls-generate",
      "--out", configFile(),
    ], // prettier-ignore
    { env: { ...process.env, SLUICE_DATA_DIR: dataDir } },
  );
  return stderr;
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-nats-tls-"));
  natsDir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-nats-tls-server-"));
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-nats-tls-scratch-"));
  // Jobs of an agent running as root run as uids of their own: they read the repository here.
  fs.chmodSync(scratch, 0o777);
  port = await freePort();
});

afterAll(async () => {
  await killAgents();
  await t?.stop();
  await nats?.stop();
  for (const dir of [dataDir, natsDir, scratch]) if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it("makes a local CA and nats-server's certificate with private keys 0600, and reuses them on the next run", async () => {
  const said = await generate();
  expect(said).toContain("made the local CA");
  const certFile = path.join(natsDir, NATS_TLS_CERT_FILE);
  const keyFile = path.join(natsDir, NATS_TLS_KEY_FILE);
  const caKeyFile = path.join(dataDir, "tls", "ca-key.pem");
  expect(mode(path.join(dataDir, "tls"))).toBe(0o700);
  expect(mode(caKeyFile)).toBe(0o600);
  expect(mode(keyFile)).toBe(0o600);
  expect(mode(configFile())).toBe(0o600);
  const config = fs.readFileSync(configFile(), "utf8");
  expect(config).toContain(
    `tls: { cert_file: ${JSON.stringify(certFile)}, key_file: ${JSON.stringify(keyFile)}`,
  );
  // No private key in the configuration.
  expect(config).not.toContain("PRIVATE KEY");

  const ca = new crypto.X509Certificate(fs.readFileSync(caFile()));
  const certificate = new crypto.X509Certificate(fs.readFileSync(certFile));
  expect(ca.ca).toBe(true);
  expect(certificate.ca).toBe(false);
  expect(certificate.checkIssued(ca)).toBe(true);
  expect(certificate.verify(ca.publicKey)).toBe(true);
  expect(certificate.checkIP("127.0.0.1")).toBe("127.0.0.1");
  expect(certificate.checkHost("localhost")).toBe("localhost");
  expect(certificate.checkPrivateKey(crypto.createPrivateKey(fs.readFileSync(keyFile)))).toBe(true);
  // openssl agrees: a chain to the CA, for TLS servers.
  expect(
    execFileSync("openssl", ["verify", "-purpose", "sslserver", "-CAfile", caFile(), certFile]).toString(),
  ).toContain(": OK");

  // The next start keeps them, byte for byte.
  const before = [caFile(), caKeyFile, certFile, keyFile].map((f) => fs.readFileSync(f, "utf8"));
  expect(await generate()).toContain(": kept");
  expect([caFile(), caKeyFile, certFile, keyFile].map((f) => fs.readFileSync(f, "utf8"))).toEqual(before);
});

it("issues a certificate again when it is near its end or lacks a host, and keeps it otherwise", async () => {
  const ca = await ensureLocalCa(dataDir);
  expect(ca.created).toBe(false);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-nats-tls-renew-"));
  try {
    const files = { certFile: path.join(dir, "c.pem"), keyFile: path.join(dir, "k.pem") };
    expect(await issueCertificate(ca, { ...files, hosts: ["127.0.0.1"] })).toBe("created");
    const first = new crypto.X509Certificate(fs.readFileSync(files.certFile));
    const validTo = Date.parse(first.validTo);
    // A day before the renewal window: kept.
    const early = new Date(validTo - (RENEW_BEFORE_DAYS + 1) * 86_400_000);
    expect(await issueCertificate(ca, { ...files, hosts: ["127.0.0.1"], now: early })).toBe("kept");
    // Inside it: issued anew, valid from then on.
    const late = new Date(validTo - (RENEW_BEFORE_DAYS - 1) * 86_400_000);
    expect(await issueCertificate(ca, { ...files, hosts: ["127.0.0.1"], now: late })).toBe("renewed");
    const second = new crypto.X509Certificate(fs.readFileSync(files.certFile));
    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(Date.parse(second.validTo)).toBeGreaterThan(validTo);
    // Another host asked for: issued anew for both.
    expect(await issueCertificate(ca, { ...files, hosts: ["127.0.0.1", "nats.example"] })).toBe("renewed");
    const third = new crypto.X509Certificate(fs.readFileSync(files.certFile));
    expect(third.checkHost("nats.example")).toBe("nats.example");
    expect(third.checkIP("127.0.0.1")).toBe("127.0.0.1");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** What nats-server answers a client that speaks plain NATS (no TLS handshake) on its port. */
function plainConversation(): Promise<{ info: any; rest: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    let text = "";
    let info: any = null;
    socket.on("error", reject);
    socket.on("data", (chunk) => {
      text += chunk.toString("utf8");
      const eol = text.indexOf("\r\n");
      if (!info && eol >= 0) {
        info = JSON.parse(text.slice(0, eol).replace(/^INFO\s+/, ""));
        text = text.slice(eol + 2);
        socket.write('CONNECT {"verbose":false,"pedantic":false,"tls_required":false}\r\nPING\r\n');
      }
    });
    // nats-server closes the connection: the test waits for that, not for a time.
    socket.on("close", () => resolve({ info, rest: text }));
  });
}

it("starts nats-server on it: a client without TLS, or not trusting the CA, is refused; one trusting it connects", async () => {
  nats = await startNatsServerWithConfig({
    configFile: configFile(),
    port,
    identity: NatsIdentity.loadOrCreate(dataDir),
    caFile: caFile(),
    dir: natsDir,
  });
  // It says TLS is required, and closes the connection of a client that goes on in plain text
  // (the test waits for the close): never a PONG, and nats-server logs the failed handshake.
  const plain = await plainConversation();
  expect(plain.info.tls_required).toBe(true);
  expect(plain.rest).not.toContain("PONG");
  await eventually(
    async () => /TLS handshake error/i.test(nats!.log()),
    10_000,
    "nats-server's log of the refusal",
  );

  // Valid credentials change nothing without the CA: nats-server's certificate is not trusted.
  const { jwt, seed } = await nats.identity.serverCredentials();
  await expect(
    connect({
      servers: nats.url,
      authenticator: jwtAuthenticator(jwt, seed),
      reconnect: false,
      timeout: 10_000,
    }),
  ).rejects.toThrow(/certificate|TLS/i);
  const nc = await connect({
    servers: nats.url,
    authenticator: jwtAuthenticator(jwt, seed),
    tls: { caFile: caFile() },
    reconnect: false,
    timeout: 10_000,
  });
  await nc.flush();
  await nc.close();
});

it("runs a job to success with a server and an agent that trust the local CA", async () => {
  t = await startTestServer({
    dataDir,
    env: {
      NATS_URL: nats!.url,
      SLUICE_NATS_INSECURE: "0",
      SLUICE_NATS_CA_FILE: caFile(),
      SLUICE_HEARTBEAT_INTERVAL_SECONDS: "1",
    },
  });
  await t.server.messagingReady;
  const base = t.url.replace(/\/graphql$/, "");
  const { createAgentToken } = dataOf(
    await t.gql(`mutation { createAgentToken(description: "tls") { token } }`),
  );
  agent = startAgentProcess({
    natsUrl: nats!.url,
    prefix: t.natsPrefix,
    serverUrl: base,
    token: createAgentToken.token,
    name: "tls-1",
    concurrency: 1,
    env: { SLUICE_SERVER_URL: base, SLUICE_NATS_INSECURE: "0", SLUICE_NATS_CA_FILE: caFile() },
  });

  const repo = gitRepository(path.join(scratch, "repo"));
  dataOf(
    await t.gql(`mutation ($input: PipelineInput!) { createPipeline(input: $input) { name } }`, {
      input: sourceThen(
        "over-tls",
        { name: "Build", actions: [shellBuild("Make", "cat app.txt")] },
        {
          checkout: { Repository: `file://${repo}` },
        },
      ),
    }),
  );
  await eventually(
    async () => {
      const { pipeline } = dataOf(
        await t!.gql(`query { pipeline(name: "over-tls") { executions(first: 1) { nodes { status } } } }`),
      );
      const status = pipeline.executions.nodes[0]?.status;
      if (status === "Failed" || status === "Stopped")
        throw new Error(`the execution ended ${status}; the agent said:\n${agent!.output().slice(-3000)}`);
      return status === "Succeeded";
    },
    90_000,
    "the execution over TLS to succeed",
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}\nthe agent said:\n${agent!.output().slice(-3000)}`);
  });
});

/** scripts/ensure-services.mjs's ensureSecuredNats, as npm start calls it, in a node process of its own. */
async function ensureSecuredNats(
  data: string,
  preferredPort: number,
): Promise<{ url: string; pid: number; caFile: string; said: string }> {
  const script = `
    import { ensureSecuredNats } from ${JSON.stringify(path.join(ROOT, "scripts", "ensure-services.mjs"))};
    const secured = await ensureSecuredNats({ dataDir: ${JSON.stringify(data)}, configTool: ${JSON.stringify(NATS_CONFIG)}, preferredPort: ${preferredPort} });
    console.log(JSON.stringify(secured));`;
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    ["--input-type=module", "-e", script],
    {
      env: { ...process.env },
    },
  );
  const lines = stdout.trim().split("\n");
  return { ...JSON.parse(lines.at(-1)!), said: `${lines.slice(0, -1).join("\n")}\n${stderr}` };
}

/** The serial number of the certificate nats-server presents now (a TLS handshake trusting the CA). */
async function presentedSerial(natsPort: number, ca: string): Promise<string> {
  // nats-server speaks first in plain text (INFO), then the client starts TLS on the same socket.
  const socket = net.connect(natsPort, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("data", () => resolve());
  });
  const secure = tls.connect({ socket, ca: fs.readFileSync(ca), servername: "localhost" });
  try {
    await new Promise<void>((resolve, reject) => {
      secure.once("secureConnect", resolve);
      secure.once("error", reject);
    });
    return secure.getPeerCertificate().serialNumber;
  } finally {
    secure.destroy();
  }
}

it("npm start's NATS: started with TLS, kept on the next start, told to reload a certificate issued anew near its end", async () => {
  const data = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-nats-tls-start-"));
  let pid = 0;
  try {
    const first = await ensureSecuredNats(data, await freePort());
    pid = first.pid;
    expect(first.url).toMatch(/^tls:\/\/127\.0\.0\.1:\d+$/);
    expect(first.caFile).toBe(path.join(data, "tls", "ca.pem"));
    const natsPort = Number(new URL(first.url).port);
    const certFile = path.join(data, "nats-server", NATS_TLS_CERT_FILE);
    const serial = () => new crypto.X509Certificate(fs.readFileSync(certFile)).serialNumber;
    const original = serial();
    expect((await presentedSerial(natsPort, first.caFile)).toUpperCase()).toBe(original.toUpperCase());

    // The next start finds it running and keeps it, certificate and all.
    const second = await ensureSecuredNats(data, await freePort());
    expect(second).toMatchObject({ url: first.url, pid: first.pid });
    expect(second.said).toContain(": kept");
    expect(serial()).toBe(original);

    // Its certificate is now near its end (as after 11 months): the next start issues another and
    // has nats-server reload it.
    const ca = await ensureLocalCa(data);
    fs.rmSync(certFile);
    const keyFile = path.join(data, "nats-server", NATS_TLS_KEY_FILE);
    expect(
      await issueCertificate(ca, {
        certFile,
        keyFile,
        hosts: certificateHosts("127.0.0.1"),
        validityDays: 10,
      }),
    ).toBe("created");
    const nearEnd = serial();
    const third = await ensureSecuredNats(data, await freePort());
    expect(third).toMatchObject({ url: first.url, pid: first.pid });
    expect(third.said).toContain(": renewed");
    expect(third.said).toContain("told it to reload");
    const renewed = serial();
    expect([original, nearEnd]).not.toContain(renewed);
    await eventually(
      async () => (await presentedSerial(natsPort, first.caFile)).toUpperCase() === renewed.toUpperCase(),
      15_000,
      "nats-server presenting the renewed certificate",
    );
  } finally {
    // The nats-server this test had started (by its pid, which the script wrote).
    if (pid > 0) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    fs.rmSync(data, { recursive: true, force: true });
  }
});

it("issue-certificate.js issues another host's certificate from the same CA (the server's HTTPS), and keeps it on the next run", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sluice-issue-certificate-"));
  try {
    const issue = async () =>
      JSON.parse(
        (
          await promisify(execFile)(
            process.execPath,
            [
              path.join(__dirname, "..", "..", "dist", "src", "issue-certificate.js"),
              "--host", "sluice.example",
              "--host", "10.0.0.7",
              "--cert", path.join(dir, "https.pem"),
              "--key", path.join(dir, "https-key.pem"),
            ], // prettier-ignore
            { env: { ...process.env, SLUICE_DATA_DIR: dataDir } },
          )
        ).stdout,
      ) as { outcome: string; ca: string };
    expect(await issue()).toMatchObject({ outcome: "created", ca: caFile() });
    const certificate = new crypto.X509Certificate(fs.readFileSync(path.join(dir, "https.pem")));
    expect(certificate.verify(new crypto.X509Certificate(fs.readFileSync(caFile())).publicKey)).toBe(true);
    expect(certificate.checkHost("sluice.example")).toBe("sluice.example");
    expect(certificate.checkIP("10.0.0.7")).toBe("10.0.0.7");
    expect(mode(path.join(dir, "https-key.pem"))).toBe(0o600);
    // A pair the server's HTTPS takes (SLUICE_TLS_CERT_FILE, SLUICE_TLS_KEY_FILE).
    expect(() =>
      tls.createSecureContext({
        cert: fs.readFileSync(path.join(dir, "https.pem")),
        key: fs.readFileSync(path.join(dir, "https-key.pem")),
      }),
    ).not.toThrow();
    expect((await issue()).outcome).toBe("kept");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
