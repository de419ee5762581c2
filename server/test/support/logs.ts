import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { encode, msgIds, natsNames, type JobMessage } from "@sluice/protocol";

/** Publishes one log chunk of a job the way an agent does (PROTOCOL.md 5.4). */
export async function writeLogChunk(
  nc: NatsConnection,
  prefix: string,
  job: JobMessage,
  sequence: number,
  stream: "stdout" | "stderr" | "system",
  text: string,
): Promise<void> {
  await jetstream(nc).publish(
    natsNames(prefix).subjects.log(job.jobId),
    encode("logChunk", {
      jobId: job.jobId,
      attempt: job.attempt,
      sequence,
      at: new Date().toISOString(),
      stream,
      text,
    }),
    { msgID: msgIds.logChunk(job.jobId, job.attempt, sequence) },
  );
}
