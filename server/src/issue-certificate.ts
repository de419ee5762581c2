/**
 * `node server/dist/src/issue-certificate.js`: a server certificate from the installation's local CA
 * (messaging/local-ca.ts; made in SLUICE_DATA_DIR/tls on the first run), for a host of your own:
 * the Sluice server's HTTPS (SLUICE_TLS_CERT_FILE/SLUICE_TLS_KEY_FILE) or a nats-server on another
 * machine. Run it where the data directory is (the CA's key never leaves it) and copy the two files.
 *
 *   SLUICE_DATA_DIR=/var/lib/sluice node server/dist/src/issue-certificate.js \
 *     --host sluice.example.com --cert /etc/sluice/https.pem --key /etc/sluice/https-key.pem
 *
 * Run again, it keeps a certificate that is still good for 30 days and for every host, and issues
 * a new one otherwise (a server reads it again on SIGHUP).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { certificateHosts, ensureLocalCa, issueCertificate } from "./messaging/local-ca";

const USAGE = `usage: node server/dist/src/issue-certificate.js --host name [--host name]... --cert file --key file
  SLUICE_DATA_DIR  the server's data directory, where the local CA is kept (default .sluice/data)
  --host           a DNS name or IP address the certificate is for (repeatable; localhost, 127.0.0.1
                   and ::1 are always added)
  --cert, --key    where the certificate (PEM, 0644) and its private key (PEM, 0600) are written
The CA's certificate, for the clients to trust, is <data dir>/tls/ca.pem.
`;

async function main(): Promise<number> {
  let values: { host?: string[]; cert?: string; key?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: "string", multiple: true },
        cert: { type: "string" },
        key: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (!values.host?.length || !values.cert || !values.key) {
    process.stderr.write(`--host, --cert and --key are required\n${USAGE}`);
    return 2;
  }
  const dataDir = path.resolve(process.env.SLUICE_DATA_DIR || ".sluice/data");
  const ca = await ensureLocalCa(dataDir);
  const [first, ...others] = values.host;
  const outcome = await issueCertificate(ca, {
    certFile: path.resolve(values.cert),
    keyFile: path.resolve(values.key),
    hosts: certificateHosts(first!, others),
    commonName: first!,
  });
  process.stdout.write(
    `${JSON.stringify({ certificate: path.resolve(values.cert), key: path.resolve(values.key), ca: ca.caFile, outcome })}\n`,
  );
  return 0;
}

void main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`issue-certificate: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
