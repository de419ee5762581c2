import { jetstreamManager, type StreamConfig } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Objm } from "@nats-io/obj";
import { artifactsBucketConfig, engineConsumerConfig, natsNames, streamConfigs } from "@sluice/protocol";

/**
 * Creates (or brings up to date) the installation's streams and the engine's durable consumer.
 * Idempotent: every server copy runs it at start and after NATS comes back.
 */
export async function ensureJetStream(nc: NatsConnection, prefix: string): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const config of Object.values(streamConfigs(prefix))) {
    const wanted = config as unknown as StreamConfig;
    try {
      await jsm.streams.info(config.name);
      const { name: _name, retention: _retention, storage: _storage, ...changeable } = wanted;
      await jsm.streams.update(config.name, changeable);
    } catch (error) {
      if (!/stream not found/i.test((error as Error).message)) throw error;
      await jsm.streams.add(wanted);
    }
  }
  const engine = engineConsumerConfig(prefix);
  await jsm.consumers.add(natsNames(prefix).streams.results, engine as never);
  // Agents read and write artifacts but may not create the bucket (PROTOCOL.md section 11).
  const { bucket, ...options } = artifactsBucketConfig(prefix);
  await new Objm(nc).create(bucket, options as never);
}
