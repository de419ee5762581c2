import { jetstreamManager, type JetStreamManager, type StreamConfig } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Objm } from "@nats-io/obj";
import {
  artifactsBucketConfig,
  engineConsumerConfig,
  isTransientNatsError,
  natsNames,
  streamConfigs,
} from "@sluice/protocol";
import { StartupError } from "../startup-error";

export interface JetStreamSetup {
  /** SLUICE_NATS_REPLICAS: num_replicas of every stream, consumer and the bucket. */
  replicas: number;
}

/**
 * Creates (or brings up to date) the installation's streams, the engine's durable consumer and
 * the artifacts bucket, each with the configured replicas. Idempotent: every server copy runs it
 * at start and after NATS comes back. Streams, consumers and the bucket made with another replica
 * count (SLUICE_NATS_REPLICAS changed) are updated to this one. When NATS cannot hold that many
 * replicas (a single server, or fewer JetStream servers than replicas) it throws a StartupError
 * that says so and what to do; a NATS cluster still electing its leaders throws what passes with
 * time (isTransientNatsError), for the caller to try again.
 */
export async function ensureJetStream(
  nc: NatsConnection,
  prefix: string,
  setup: JetStreamSetup = { replicas: 1 },
): Promise<void> {
  const { replicas } = setup;
  checkClustered(nc, replicas);
  const jsm = await jetstreamManager(nc);
  const names = natsNames(prefix);
  try {
    for (const config of Object.values(streamConfigs(prefix, { replicas }))) {
      const wanted = config as unknown as StreamConfig;
      try {
        await jsm.streams.info(config.name);
        const { name: _name, retention: _retention, storage: _storage, ...changeable } = wanted;
        await jsm.streams.update(config.name, changeable);
      } catch (error) {
        if (!/stream not found/i.test((error as Error).message)) throw error;
        await jsm.streams.add(wanted).catch(async (added: unknown) => {
          // Another server copy created it meanwhile: bring it up to date instead.
          if (!/already in use/i.test((added as Error).message)) throw added;
          const { name: _name, retention: _retention, storage: _storage, ...changeable } = wanted;
          await jsm.streams.update(config.name, changeable);
        });
      }
    }
    // A durable consumer's add updates the one that exists (its replicas too).
    await jsm.consumers.add(names.streams.results, engineConsumerConfig(prefix, { replicas }) as never);
    await updateJobConsumers(jsm, names.streams.jobs, replicas);
    // Agents read and write artifacts but may not create the bucket (PROTOCOL.md section 11).
    const { bucket, ...options } = artifactsBucketConfig(prefix, { replicas });
    await new Objm(nc).create(bucket, options as never);
    // The object store leaves an existing bucket's stream as it is: its replicas are set here.
    const bucketStream = `OBJ_${bucket}`;
    const info = await jsm.streams.info(bucketStream);
    if (info.config.num_replicas !== replicas)
      await jsm.streams.update(bucketStream, { ...info.config, num_replicas: replicas });
  } catch (error) {
    throw placementError(error, nc, replicas) ?? error;
  }
}

/**
 * The job consumers that agents' registrations made with another replica count. A consumer with
 * num_replicas 0 follows its stream and is left alone.
 */
async function updateJobConsumers(jsm: JetStreamManager, stream: string, replicas: number): Promise<void> {
  for await (const consumer of jsm.consumers.list(stream)) {
    const current = consumer.config.num_replicas ?? 0;
    if (current !== 0 && current !== replicas)
      await jsm.consumers.update(stream, consumer.name, { num_replicas: replicas });
  }
}

/** Replicas above 1 need a cluster: a single nats-server refuses them, so say so before trying. */
export function checkClustered(nc: NatsConnection, replicas: number): void {
  if (replicas <= 1 || nc.info?.cluster) return;
  throw new StartupError(
    `SLUICE_NATS_REPLICAS=${replicas} needs a NATS cluster of at least ${replicas} servers with JetStream, ` +
      `but the NATS server ${nc.getServer()} is not in a cluster. Give NATS_URL the servers of a cluster, ` +
      `or set SLUICE_NATS_REPLICAS=1 on a single server.`,
  );
}

/** The StartupError of a replica count NATS cannot place; null for any other error. */
export function placementError(error: unknown, nc: NatsConnection, replicas: number): StartupError | null {
  if (error instanceof StartupError) return error;
  if (isTransientNatsError(error)) return null;
  const message = (error as Error).message ?? String(error);
  if (!/no suitable peers|insufficient resources|not supported in non-clustered mode|replicas/i.test(message))
    return null;
  const cluster = nc.info?.cluster ? `cluster "${nc.info.cluster}"` : "server";
  return new StartupError(
    `the NATS ${cluster} cannot hold ${replicas} replica${replicas === 1 ? "" : "s"} of each stream (SLUICE_NATS_REPLICAS=${replicas}): ` +
      `${message}. It needs at least ${replicas} servers with JetStream in the cluster, each with room for ` +
      `the streams; start the missing ones, or set SLUICE_NATS_REPLICAS to what the cluster holds (1 or 3).`,
    { cause: error },
  );
}
