import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { natsNames } from "@sluice/protocol";

export const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

export function connectNats(url = NATS_URL): Promise<NatsConnection> {
  return connect({ servers: url, name: "sluice-test" });
}

/** Removes the streams a test run created under its own prefix. */
export async function deleteStreams(prefix: string): Promise<void> {
  const nc = await connectNats();
  try {
    const jsm = await jetstreamManager(nc);
    const names = natsNames(prefix);
    for (const stream of [...Object.values(names.streams), `OBJ_${names.artifactsBucket}`]) {
      await jsm.streams.delete(stream).catch(() => false);
    }
  } finally {
    await nc.close();
  }
}
