/**
 * The installation's own certificate authority (docs/ARCHITECTURE.md "NATS security"): made on the
 * first `npm start` (or `nats-config.js --tls-generate`) in `<data dir>/tls/` — `ca.pem`, the
 * certificate every client trusts (SLUICE_NATS_CA_FILE), and `ca-key.pem` (mode 0600, its
 * directory 0700), which never leaves the data directory — and the certificates it issues:
 * nats-server's, and any other a host needs (`node server/dist/src/local-ca.js`).
 *
 * ECDSA P-256 keys from node's WebCrypto; the X.509 structures from @peculiar/x509. Checks of what
 * is on disk (expiry, issuer, names, key) use node's own X509Certificate. A certificate is reused
 * until it is near its end (RENEW_BEFORE_DAYS), is not for every name asked, or was issued by
 * another CA; the CA itself is made again only when it is near its end, and then every certificate
 * it issued is issued again.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata polyfill.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

type CryptoKey = crypto.webcrypto.CryptoKey;
type CryptoKeyPair = crypto.webcrypto.CryptoKeyPair;
const webcrypto = crypto.webcrypto;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const DAY_MS = 86_400_000;
/** The CA lasts ten years; what it issues, one (browsers and Go refuse server certificates of more than 398 days). */
export const CA_VALIDITY_DAYS = 3650;
export const CERTIFICATE_VALIDITY_DAYS = 365;
/** A certificate (or the CA) with less left than this is made again. */
export const RENEW_BEFORE_DAYS = 30;

export const LOCAL_CA_DIR = "tls";
export const CA_CERT_FILE = "ca.pem";
export const CA_KEY_FILE = "ca-key.pem";

/** nats-server's generated certificate and key (`nats-config.js --tls-generate`), beside its configuration. */
export const NATS_TLS_CERT_FILE = "nats-server-cert.pem";
export const NATS_TLS_KEY_FILE = "nats-server-key.pem";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export interface LocalCa {
  /** `<dir>/ca.pem`: what clients trust. */
  caFile: string;
  certificate: crypto.X509Certificate;
  /** Whether this call made the CA (the first start, or the old one was near its end). */
  created: boolean;
  /** @internal the CA's signing key. */
  readonly signingKey: CryptoKey;
}

export interface IssueOptions {
  /** The certificate's PEM file (0644) and its key's (0600); their directory is made (0700) when missing. */
  certFile: string;
  keyFile: string;
  /** DNS names and IP addresses the certificate is for (subjectAltName). */
  hosts: string[];
  /** Its common name (default: the first host). */
  commonName?: string;
  /** Days it lasts (default CERTIFICATE_VALIDITY_DAYS). */
  validityDays?: number;
  /** Now, for tests of renewal. */
  now?: Date;
}

export type IssueOutcome = "created" | "kept" | "renewed";

function serialNumber(): string {
  // 16 random bytes, the first bit clear: a positive INTEGER.
  const bytes = crypto.randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString("hex");
}

/** Writes a file whole (a temporary file renamed over it), with its mode. */
function writeAtomically(file: string, text: string, mode: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(temporary, text, { mode, flag: "wx" });
  fs.chmodSync(temporary, mode);
  fs.renameSync(temporary, file);
}

function readIfThere(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key));
  return crypto.createPrivateKey({ key: der, format: "der", type: "pkcs8" }).export({
    type: "pkcs8",
    format: "pem",
  }) as string;
}

async function signingKeyFromPem(pem: string): Promise<CryptoKey> {
  const der = crypto.createPrivateKey(pem).export({ type: "pkcs8", format: "der" });
  return webcrypto.subtle.importKey("pkcs8", der, ALGORITHM, false, ["sign"]);
}

function endsWithin(certificate: crypto.X509Certificate, now: Date, days: number): boolean {
  return Date.parse(certificate.validTo) - now.getTime() < days * DAY_MS;
}

/** The CA in `<dataDir>/tls`, made (or made again, near its end) when needed. */
export async function ensureLocalCa(dataDir: string, now = new Date()): Promise<LocalCa> {
  const dir = path.join(dataDir, LOCAL_CA_DIR);
  const caFile = path.join(dir, CA_CERT_FILE);
  const keyFile = path.join(dir, CA_KEY_FILE);
  const certText = readIfThere(caFile);
  const keyText = readIfThere(keyFile);
  if (certText && keyText) {
    let kept: LocalCa | null = null;
    try {
      const certificate = new crypto.X509Certificate(certText);
      const key = crypto.createPrivateKey(keyText);
      if (
        certificate.ca &&
        certificate.checkPrivateKey(key) &&
        !endsWithin(certificate, now, RENEW_BEFORE_DAYS)
      )
        kept = { caFile, certificate, created: false, signingKey: await signingKeyFromPem(keyText) };
    } catch {
      // unreadable: made again below (the message would say nothing more useful than this)
    }
    if (kept) return kept;
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
  const created = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=Sluice local CA ${crypto.randomBytes(4).toString("hex")}, O=Sluice`,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter: new Date(now.getTime() + CA_VALIDITY_DAYS * DAY_MS),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  // The key first: a ca.pem without its key would be taken for a CA of someone else's.
  writeAtomically(keyFile, await privateKeyPem(keys.privateKey), 0o600);
  writeAtomically(caFile, created.toString("pem") + "\n", 0o644);
  return {
    caFile,
    certificate: new crypto.X509Certificate(fs.readFileSync(caFile)),
    created: true,
    signingKey: keys.privateKey,
  };
}

/** Whether `certificate` names `host` (a DNS name or an IP address) in its subjectAltName. */
function names(certificate: crypto.X509Certificate, host: string): boolean {
  return net.isIP(host) ? certificate.checkIP(host) !== undefined : certificate.checkHost(host) !== undefined;
}

/**
 * A server certificate for `hosts` signed by the CA, in `certFile` and `keyFile`: kept when the one
 * there is the CA's, for every host, with its key, and not near its end; issued anew otherwise.
 */
export async function issueCertificate(ca: LocalCa, options: IssueOptions): Promise<IssueOutcome> {
  const now = options.now ?? new Date();
  const hosts = [...new Set(options.hosts.map((h) => h.trim()).filter(Boolean))];
  if (hosts.length === 0) throw new Error("a certificate needs at least one host name or address");
  const certText = readIfThere(options.certFile);
  const keyText = readIfThere(options.keyFile);
  if (certText && keyText) {
    try {
      const certificate = new crypto.X509Certificate(certText);
      const fits =
        certificate.checkIssued(ca.certificate) &&
        certificate.verify(ca.certificate.publicKey) &&
        certificate.checkPrivateKey(crypto.createPrivateKey(keyText)) &&
        hosts.every((host) => names(certificate, host)) &&
        !endsWithin(certificate, now, RENEW_BEFORE_DAYS);
      if (fits) return "kept";
    } catch {
      // unreadable: issued again
    }
  }
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
  const validityDays = options.validityDays ?? CERTIFICATE_VALIDITY_DAYS;
  const caCertificate = new x509.X509Certificate(ca.certificate.raw);
  const issued = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${(options.commonName ?? hosts[0]!).replace(/[,=+<>#;"\\]/g, "-")}`,
    issuer: caCertificate.subjectName,
    notBefore: new Date(now.getTime() - 5 * 60_000),
    notAfter: new Date(now.getTime() + validityDays * DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((host) => ({ type: net.isIP(host) ? ("ip" as const) : ("dns" as const), value: host })),
        false,
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caCertificate, false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  writeAtomically(options.keyFile, await privateKeyPem(keys.privateKey), 0o600);
  writeAtomically(options.certFile, issued.toString("pem") + "\n", 0o644);
  return certText ? "renewed" : "created";
}

/**
 * The names a server's certificate is for: the loopback names, the host it listens on (this host's
 * name when it listens on every interface) and those given. `listen` is `host:port` or a host.
 */
export function certificateHosts(listen: string, given: readonly string[] = []): string[] {
  const host = listen.replace(/^\[(.*)\](:\d+)?$/, "$1").replace(/^([^:]*):\d+$/, "$1");
  const wildcard = host === "0.0.0.0" || host === "::" || host === "";
  return [...new Set(["localhost", "127.0.0.1", "::1", wildcard ? os.hostname() : host, ...given])];
}
