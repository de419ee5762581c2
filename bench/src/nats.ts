import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { natsNames } from "@sluice/protocol";
import { NATS_URL } from "./env";

export function connectNats(name = "sluice-bench"): Promise<NatsConnection> {
  return connect({ servers: NATS_URL, name });
}

/** Removes the streams (and with them the consumers) a run created under its own prefix. */
export async function deleteStreams(prefix: string): Promise<void> {
  const nc = await connectNats();
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of Object.values(natsNames(prefix).streams)) {
      await jsm.streams.delete(stream).catch(() => false);
    }
  } finally {
    await nc.close();
  }
}
