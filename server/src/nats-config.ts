/**
 * `node server/dist/src/nats-config.js`: writes the nats-server configuration of this installation
 * (decentralized JWT: its operator, system account and Sluice account; messaging/nats-identity.ts),
 * making the identity in SLUICE_DATA_DIR first when there is none. npm start runs it before starting
 * its nats-server; on real hosts the README shows how.
 *
 *   SLUICE_DATA_DIR=/var/lib/sluice node server/dist/src/nats-config.js \
 *     --listen 0.0.0.0:4222 --store /var/lib/nats/jetstream --resolver /var/lib/nats/jwt --out /etc/nats/sluice.conf \
 *     --tls-generate --tls-host nats.example.com
 *
 * The file holds no secret (JWTs are signed, public statements); the seeds stay in the data directory.
 * With --tls-generate, nats-server's certificate and key are issued by the installation's local CA
 * (messaging/local-ca.ts: made in <data dir>/tls on the first run, reused after) and written beside
 * the configuration; a certificate near its end, or not for every host asked, is issued again.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import {
  NATS_TLS_CERT_FILE,
  NATS_TLS_KEY_FILE,
  certificateHosts,
  ensureLocalCa,
  issueCertificate,
} from "./messaging/local-ca";
import { NatsIdentity, NATS_IDENTITY_FILE } from "./messaging/nats-identity";

const USAGE = `usage: node server/dist/src/nats-config.js [--listen host:port] [--store dir] [--resolver dir]
                                         [--tls-cert file --tls-key file | --tls-generate [--tls-host name]...
                                          [--tls-dir dir] [--ca-out file]] [--out file]
  SLUICE_DATA_DIR  the server's data directory, where the NATS identity is kept (default .sluice/data)
  --listen         where nats-server listens (default 127.0.0.1:4222)
  --store          JetStream's store (default <data dir>/nats-server/store)
  --resolver       where nats-server keeps account JWTs and revocations (default <data dir>/nats-server/jwt)
  --tls-cert, --tls-key  nats-server's certificate and key (PEM): clients must then use TLS
                   (tls://, with SLUICE_NATS_CA_FILE on the server and the agents)
  --tls-generate   the same with a certificate issued by the installation's own CA (<data dir>/tls/ca.pem,
                   made on the first run): reused while it is good for 30 days more, else issued again
  --tls-host       a DNS name or IP address clients reach nats-server at (repeatable; always with
                   localhost, 127.0.0.1 and ::1, and the --listen host, or this host's name for 0.0.0.0)
  --tls-dir        where the generated certificate and key go (default: beside --out, else <data dir>/nats-server)
  --ca-out         also copy the CA's certificate (public) to this file, for clients elsewhere
  --out            the file to write (default: standard output)
`;

async function main(): Promise<number> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        listen: { type: "string" },
        store: { type: "string" },
        resolver: { type: "string" },
        out: { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "tls-generate": { type: "boolean" },
        "tls-host": { type: "string", multiple: true },
        "tls-dir": { type: "string" },
        "ca-out": { type: "string" },
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
  if (Boolean(values["tls-cert"]) !== Boolean(values["tls-key"])) {
    process.stderr.write(`--tls-cert and --tls-key go together\n${USAGE}`);
    return 2;
  }
  const generate = values["tls-generate"] === true;
  if (generate && values["tls-cert"]) {
    process.stderr.write(
      `--tls-generate makes the certificate: give it or --tls-cert/--tls-key, not both\n${USAGE}`,
    );
    return 2;
  }
  if (!generate && (values["tls-host"] || values["tls-dir"] || values["ca-out"])) {
    process.stderr.write(`--tls-host, --tls-dir and --ca-out go with --tls-generate\n${USAGE}`);
    return 2;
  }
  const dataDir = path.resolve(process.env.SLUICE_DATA_DIR || ".sluice/data");
  const identity = NatsIdentity.loadOrCreate(dataDir);
  const listen = (values.listen as string | undefined) ?? "127.0.0.1:4222";
  let tls: { certFile: string; keyFile: string } | null = values["tls-cert"]
    ? {
        certFile: path.resolve(values["tls-cert"] as string),
        keyFile: path.resolve(values["tls-key"] as string),
      }
    : null;
  if (generate) {
    const tlsDir = path.resolve(
      (values["tls-dir"] as string | undefined) ??
        (values.out ? path.dirname(values.out as string) : path.join(dataDir, "nats-server")),
    );
    tls = { certFile: path.join(tlsDir, NATS_TLS_CERT_FILE), keyFile: path.join(tlsDir, NATS_TLS_KEY_FILE) };
    const ca = await ensureLocalCa(dataDir);
    const outcome = await issueCertificate(ca, {
      ...tls,
      hosts: certificateHosts(listen, (values["tls-host"] as string[] | undefined) ?? []),
      commonName: "nats-server",
    });
    if (values["ca-out"]) {
      const caOut = path.resolve(values["ca-out"] as string);
      fs.mkdirSync(path.dirname(caOut), { recursive: true });
      fs.copyFileSync(ca.caFile, caOut);
      fs.chmodSync(caOut, 0o644);
    }
    process.stderr.write(
      `${ca.created ? "made the local CA" : "the local CA is"} ${ca.caFile}; nats-server's certificate ${tls.certFile}: ${outcome}\n`,
    );
  }
  const text = await identity.serverConfig({
    listen,
    storeDir: path.resolve(
      (values.store as string | undefined) ?? path.join(dataDir, "nats-server", "store"),
    ),
    resolverDir: path.resolve(
      (values.resolver as string | undefined) ?? path.join(dataDir, "nats-server", "jwt"),
    ),
    ...(tls ? { tls } : {}),
  });
  if (values.out) {
    const out = path.resolve(values.out as string);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, text, { mode: 0o600 });
    fs.chmodSync(out, 0o600);
    process.stderr.write(
      `wrote ${out} (operator ${identity.operatorPublicKey}; keys in ${path.join(dataDir, NATS_IDENTITY_FILE)})\n`,
    );
  } else {
    process.stdout.write(text);
  }
  return 0;
}

void main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    process.stderr.write(`nats-config: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
