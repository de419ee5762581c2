import { jetstream, jetstreamManager, type StreamConfig } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { natsNames, streamConfigs } from "@sluice/protocol";
import { checkClustered, placementError } from "./jetstream-setup";

/** Another installation (another database) uses this NATS prefix: this server must not start. */
export class InstallationConflictError extends Error {
  override readonly name = "InstallationConflictError";
}

interface Claim {
  installationId: string;
  claimedAt: string;
}

/**
 * Claims the prefix for this installation, or checks that it holds the claim (PROTOCOL.md 4.3):
 * the first claim published on `<p>.installation` is the only one stored, so of two installations
 * starting together exactly one wins. Throws InstallationConflictError when another one holds it.
 */
export async function claimPrefix(
  nc: NatsConnection,
  prefix: string,
  installationId: string,
  replicas = 1,
): Promise<void> {
  const names = natsNames(prefix);
  checkClustered(nc, replicas);
  const jsm = await jetstreamManager(nc);
  const config = streamConfigs(prefix, { replicas }).installation as unknown as StreamConfig;
  try {
    await jsm.streams.info(config.name);
  } catch (error) {
    if (!/stream not found/i.test((error as Error).message)) throw error;
    await jsm.streams.add(config).catch(async (added: unknown) => {
      // Another server created it meanwhile: fine.
      if (!/already in use|stream name already/i.test((added as Error).message))
        throw placementError(added, nc, replicas) ?? added;
    });
  }
  const mine: Claim = { installationId, claimedAt: new Date().toISOString() };
  try {
    await jetstream(nc).publish(names.subjects.installation, JSON.stringify(mine), {
      expect: { lastSubjectSequence: 0 },
    });
    return; // the first claim: ours
  } catch (error) {
    if (!/wrong last sequence/i.test((error as Error).message)) throw error;
  }
  const stored = await jsm.streams.getMessage(config.name, { last_by_subj: names.subjects.installation });
  const claim = stored?.json<Claim>();
  if (claim?.installationId === installationId) return;
  throw new InstallationConflictError(
    `The NATS prefix "${prefix}" belongs to another Sluice installation (id ${claim?.installationId ?? "unknown"}, ` +
      `claimed ${claim?.claimedAt ?? "at an unknown time"}); this database is installation ${installationId}. ` +
      `Two installations on one prefix would take each other's jobs. Give this one its own SLUICE_NATS_PREFIX, ` +
      `or, if the other installation is gone for good, delete its streams (${Object.values(names.streams).join(", ")}, ` +
      `OBJ_${names.artifactsBucket}) and start again.`,
  );
}
