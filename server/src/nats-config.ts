/**
 * `node server/dist/src/nats-config.js`: writes the nats-server configuration of this installation
 * (decentralized JWT: its operator, system account and Sluice account; messaging/nats-identity.ts),
 * making the identity in SLUICE_DATA_DIR first when there is none. npm start runs it before starting
 * its nats-server; on real hosts the README shows how.
 *
 *   SLUICE_DATA_DIR=/var/lib/sluice node server/dist/src/nats-config.js \
 *     --listen 0.0.0.0:4222 --store /var/lib/nats/jetstream --resolver /var/lib/nats/jwt --out /etc/nats/sluice.conf
 *
 * The file holds no secret (JWTs are signed, public statements); the seeds stay in the data directory.
 */
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { NatsIdentity, NATS_IDENTITY_FILE } from "./messaging/nats-identity";

const USAGE = `usage: node server/dist/src/nats-config.js [--listen host:port] [--store dir] [--resolver dir]
                                         [--tls-cert file --tls-key file] [--out file]
  SLUICE_DATA_DIR  the server's data directory, where the NATS identity is kept (default .sluice/data)
  --listen         where nats-server listens (default 127.0.0.1:4222)
  --store          JetStream's store (default <data dir>/nats-server/store)
  --resolver       where nats-server keeps account JWTs and revocations (default <data dir>/nats-server/jwt)
  --tls-cert, --tls-key  nats-server's certificate and key (PEM): clients must then use TLS
                   (tls://, with SLUICE_NATS_CA_FILE on the server and the agents)
  --out            the file to write (default: standard output)
`;

async function main(): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        listen: { type: "string" },
        store: { type: "string" },
        resolver: { type: "string" },
        out: { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
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
  const dataDir = path.resolve(process.env.SLUICE_DATA_DIR || ".sluice/data");
  const identity = NatsIdentity.loadOrCreate(dataDir);
  const text = await identity.serverConfig({
    listen: (values.listen as string | undefined) ?? "127.0.0.1:4222",
    storeDir: path.resolve(
      (values.store as string | undefined) ?? path.join(dataDir, "nats-server", "store"),
    ),
    resolverDir: path.resolve(
      (values.resolver as string | undefined) ?? path.join(dataDir, "nats-server", "jwt"),
    ),
    ...(values["tls-cert"]
      ? {
          tls: {
            certFile: path.resolve(values["tls-cert"] as string),
            keyFile: path.resolve(values["tls-key"] as string),
          },
        }
      : {}),
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
