import { Objm, type ObjectStore } from "@nats-io/obj";
import type { CompleteMessage } from "@sluice/protocol";
import type { NatsLink } from "./nats";

/**
 * Checks the outputs a complete reports against the objects stored (PROTOCOL.md 9): each must exist
 * with the size and SHA-256 the agent reports, or the attempt fails instead of recording a location
 * that does not hold what it claims. Only objects of the reporting attempt are looked at (their key
 * ends in `/<jobId>/<attempt>/<name>`); the engine refuses any other key before recording anything.
 */
export class OutputCheck {
  private store: ObjectStore | null = null;

  constructor(
    private readonly nats: NatsLink,
    private readonly bucket: string,
  ) {}

  /** A sentence saying what does not match, or null. Throws while the store cannot be read (redelivered). */
  async mismatch(done: CompleteMessage): Promise<string | null> {
    if (done.outcome !== "Succeeded") return null;
    for (const artifact of done.outputArtifacts) {
      if (!artifact.objectKey.endsWith(`/${done.jobId}/${done.attempt}/${artifact.name}`)) continue;
      const info = await (await this.open()).info(artifact.objectKey);
      if (info === null || info.deleted)
        return `The output artifact "${artifact.name}" was reported but no object is stored for it.`;
      const sha256 = digestHex(info.digest);
      if (info.size !== artifact.size || sha256 !== artifact.sha256)
        return `The stored object of output artifact "${artifact.name}" (${info.size} bytes, SHA-256 ${sha256}) is not the one reported (${artifact.size} bytes, SHA-256 ${artifact.sha256}).`;
    }
    return null;
  }

  private async open(): Promise<ObjectStore> {
    const nc = this.nats.nats;
    if (!nc) throw new Error("NATS is not connected");
    this.store ??= await new Objm(nc).open(this.bucket);
    return this.store;
  }
}

/** The object store writes `SHA-256=<base64url>`; the protocol speaks lowercase hex. */
function digestHex(digest: string): string {
  const value = digest.replace(/^SHA-256=/i, "");
  return Buffer.from(value.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("hex");
}
