import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { natsNames } from "@sluice/protocol";
import { NATS_URL } from "./env";

export function connectNats(name = "sluice-bench"): Promise<NatsConnection> {
  return connect({ servers: NATS_URL, name });
}

/**
 * Removes the streams (and with them the consumers) a run created under its own prefix, and the
 * stream under its artifacts bucket (`OBJ_<prefix>_artifacts`).
 */
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
