import type { Command } from "commander";
import type { ContextFactory } from "../context";

export const ROTATE_MASTER_KEY_MUTATION = `mutation{ rotateMasterKey{ masterKeyId rewrapped source } }`;

interface RotateMasterKeyData {
  rotateMasterKey: { masterKeyId: string; rewrapped: number; source: string };
}

/** `sluice admin …`: operations on the installation itself. */
export function register(program: Command, context: ContextFactory): void {
  const admin = program.command("admin").description("Operations on the installation itself.");
  admin
    .command("rotate-key")
    .description(
      "Re-wrap the data keys of secret values under a new master key, without downtime. With the " +
        "server's key file a new key is made there; with SLUICE_MASTER_KEY put the new key first " +
        "(the old one after it, comma-separated) on every server, run this, then drop the old key.",
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const data = await ctx.request<RotateMasterKeyData>(ROTATE_MASTER_KEY_MUTATION, {});
      ctx.print(data.rotateMasterKey);
    });
}
