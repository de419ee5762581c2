/**
 * The JetStream streams, consumers and object store of one installation (PROTOCOL.md section 4),
 * as plain data in the JetStream API's own field names (durations in nanoseconds). The server
 * passes them to its NATS client (`jsm.streams.add`, `jsm.consumers.add`, `objm.create`); this
 * package has no NATS dependency.
 */
import type { ActionTypeId } from "./messages";
import { natsNames } from "./names";
import { DEFAULT_ACCOUNT } from "./vocabulary";

const SECOND = 1e9;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const KiB = 1024;
const MiB = 1024 * KiB;

/** Nanoseconds, as the JetStream API counts durations. */
export type Nanos = number;

export const nanos = {
  seconds: (n: number): Nanos => n * SECOND,
  minutes: (n: number): Nanos => n * MINUTE,
  hours: (n: number): Nanos => n * HOUR,
  days: (n: number): Nanos => n * DAY,
};

export interface StreamSettings {
  name: string;
  description: string;
  subjects: string[];
  retention: "limits" | "workqueue";
  storage: "file" | "memory";
  discard: "old" | "new";
  max_age: Nanos;
  max_bytes: number;
  max_msgs: number;
  max_msgs_per_subject: number;
  max_msg_size: number;
  duplicate_window: Nanos;
  allow_direct: boolean;
  num_replicas: number;
}

export interface ConsumerSettings {
  durable_name: string;
  description: string;
  filter_subject?: string;
  deliver_policy: "all";
  ack_policy: "explicit";
  ack_wait: Nanos;
  max_deliver: number;
  max_ack_pending: number;
  replay_policy: "instant";
  /** The consumer's replicas: the installation's (SLUICE_NATS_REPLICAS); 0 follows its stream's. */
  num_replicas: number;
}

export interface ObjectStoreSettings {
  bucket: string;
  description: string;
  storage: "file";
  replicas: number;
  /** 0: objects do not expire; the server deletes them with the execution's history. */
  ttl: Nanos;
  /** -1: no limit. */
  max_bytes: number;
}

/**
 * No byte limit on the file streams: JetStream reserves a stream's max_bytes from the server's
 * storage when the stream is created, so 13 GiB of limits would refuse a second installation (or
 * a test run) on a server with a small disk. Age and message-count limits bound them instead;
 * operators cap an installation with the NATS account's storage limit.
 */
export const UNRESERVED = -1;

export type StreamKey = "jobs" | "results" | "logs" | "cancel" | "events" | "installation";

export interface JetStreamOptions {
  /**
   * num_replicas of every stream, consumer and the bucket: 1 on a single server, 3 on a cluster
   * (SLUICE_NATS_REPLICAS). Default 1 for streams and the bucket; a consumer built without it gets
   * 0, which makes JetStream give it its stream's replicas (so a client's consumer never downgrades
   * a replicated stream's).
   */
  replicas?: number;
}

/** The replica counts an installation may be configured with (SLUICE_NATS_REPLICAS). */
export const NATS_REPLICAS = [1, 3] as const;

/** The five streams of an installation, keyed as in `natsNames(prefix).streams`. */
export function streamConfigs(
  prefix: string,
  options: JetStreamOptions = {},
): Record<StreamKey, StreamSettings> {
  const names = natsNames(prefix);
  const num_replicas = options.replicas ?? 1;
  const base = { num_replicas, max_msgs: -1, max_msgs_per_subject: -1, allow_direct: false } as const;
  return {
    jobs: {
      ...base,
      name: names.streams.jobs,
      description:
        "Sluice jobs for agents: one subject per pool and action type, removed when an agent takes them",
      subjects: [names.wildcards.jobs],
      retention: "workqueue",
      storage: "file",
      discard: "new",
      max_age: 7 * DAY,
      max_bytes: UNRESERVED,
      max_msgs: 100_000,
      max_msg_size: 1 * MiB,
      duplicate_window: 1 * HOUR,
    },
    results: {
      ...base,
      name: names.streams.results,
      description:
        "Sluice agents' accepts, job heartbeats and completes, read by the servers' engine consumer",
      subjects: [names.wildcards.results],
      retention: "limits",
      storage: "file",
      discard: "old",
      max_age: 7 * DAY,
      max_bytes: UNRESERVED,
      max_msg_size: 256 * KiB,
      duplicate_window: 10 * MINUTE,
    },
    logs: {
      ...base,
      name: names.streams.logs,
      description: "Sluice job logs: one subject per action execution; the agent caps each attempt",
      subjects: [names.wildcards.logs],
      retention: "limits",
      storage: "file",
      discard: "old",
      max_age: 30 * DAY,
      max_bytes: UNRESERVED,
      max_msgs_per_subject: 100_000,
      max_msg_size: 64 * KiB,
      duplicate_window: 2 * MINUTE,
    },
    cancel: {
      ...base,
      name: names.streams.cancel,
      description: "Sluice job cancels: the last one per action execution, outliving any queued job",
      subjects: [names.wildcards.cancel],
      retention: "limits",
      storage: "file",
      discard: "old",
      max_age: 8 * DAY,
      max_bytes: 64 * MiB,
      max_msgs_per_subject: 1,
      max_msg_size: 4 * KiB,
      duplicate_window: 2 * MINUTE,
      allow_direct: true,
    },
    events: {
      ...base,
      name: names.streams.events,
      description:
        "Sluice pipeline events between server copies: a one-hour buffer behind core subscriptions",
      subjects: [names.wildcards.events],
      retention: "limits",
      storage: "memory",
      discard: "old",
      max_age: 1 * HOUR,
      max_bytes: 64 * MiB,
      max_msg_size: 16 * KiB,
      duplicate_window: 2 * MINUTE,
    },
    installation: {
      ...base,
      name: names.streams.installation,
      description: "Sluice: which installation (database) uses this prefix, claimed by its first server",
      subjects: [names.wildcards.installation],
      retention: "limits",
      storage: "file",
      discard: "old",
      max_age: 0,
      max_bytes: 64 * KiB,
      max_msgs_per_subject: 1,
      max_msg_size: 4 * KiB,
      duplicate_window: 2 * MINUTE,
    },
  };
}

const consumerBase = {
  deliver_policy: "all",
  ack_policy: "explicit",
  ack_wait: 30 * SECOND,
  max_deliver: -1,
  replay_policy: "instant",
} as const;

/** The durable pull consumer on the results stream that every server copy shares. */
export function engineConsumerConfig(prefix: string, options: JetStreamOptions = {}): ConsumerSettings {
  return {
    ...consumerBase,
    num_replicas: options.replicas ?? 0,
    durable_name: natsNames(prefix).consumers.engine,
    description: "Sluice engine: every server copy pulls agents' results from here",
    max_ack_pending: 256,
  };
}

export interface JobConsumerOptions extends JetStreamOptions {
  /** The account whose pool it is (its agents' tokens' account); absent: the default account. */
  account?: string;
}

/**
 * The durable pull consumer shared by the agents of one pool (of one account) that run one action
 * type.
 */
export function jobConsumerConfig(
  prefix: string,
  pool: string,
  actionTypeId: ActionTypeId,
  options: JobConsumerOptions = {},
): ConsumerSettings {
  const names = natsNames(prefix);
  const { category, owner, provider, version } = actionTypeId;
  const account = options.account ?? DEFAULT_ACCOUNT;
  const of = account === DEFAULT_ACCOUNT ? `pool ${pool}` : `pool ${pool} of account ${account}`;
  return {
    ...consumerBase,
    num_replicas: options.replicas ?? 0,
    durable_name: names.consumers.job(pool, actionTypeId, account),
    description: `Sluice jobs of ${of} for ${category}/${owner}/${provider}/${version}`,
    filter_subject: names.subjects.job(pool, actionTypeId, account),
    max_ack_pending: 1000,
  };
}

/** The object store that holds artifacts, `<executionId>/<artifactName>`. */
export function artifactsBucketConfig(prefix: string, options: JetStreamOptions = {}): ObjectStoreSettings {
  return {
    bucket: natsNames(prefix).artifactsBucket,
    description: "Sluice artifacts: gzip-compressed tar archives named <executionId>/<artifactName>",
    storage: "file",
    replicas: options.replicas ?? 1,
    ttl: 0,
    max_bytes: -1,
  };
}
