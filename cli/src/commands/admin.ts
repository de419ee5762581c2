import { writeFile } from "node:fs/promises";
import type { Command } from "commander";
import type { ContextFactory } from "../context";
import { UsageError } from "../errors";

/*
 * `sluice admin export` / `sluice admin import`: the installation's definitions as one versioned
 * archive (docs/backup.md). The archive holds no secret in clear, but it does hold the agent
 * tokens' digests: a file it is written to is readable by its owner only.
 */

export const EXPORT_INSTALLATION_MUTATION =
  "mutation($includeExecutions:Boolean!){ exportInstallationV2(input:{includeExecutions:$includeExecutions}){ archive } }";
export const IMPORT_INSTALLATION_MUTATION =
  "mutation($archive:JSON!){ importInstallationV2(input:{archive:$archive}){ installationImport{ pipelines pipelineVersions customActionTypes agentTokens notificationTargets notificationRules executions webhooksToRenew secretsToReenter targetsToReenter } } }";

export const ROTATE_MASTER_KEY_MUTATION = `mutation{ rotateMasterKeyV2(input:{}){ rotation{ masterKeyId rewrapped source } } }`;

export const ROTATE_SIGNING_KEY_MUTATION =
  "mutation($graceSeconds:Int){ rotateSigningKey(input:{graceSeconds:$graceSeconds}){ rotation{ publicKey retiring{ publicKey retiresAt } } } }";

interface RotateSigningKeyData {
  rotateSigningKey: {
    rotation: { publicKey: string; retiring: Array<{ publicKey: string; retiresAt: string }> };
  };
}

interface RotateMasterKeyData {
  rotateMasterKeyV2: { rotation: { masterKeyId: string; rewrapped: number; source: string } };
}

export function register(program: Command, context: ContextFactory): void {
  const admin = program
    .command("admin")
    .description(
      "Installation administration: export and import of every definition (backup and restore), and the rotation of the master key and of the key that signs jobs.",
    );

  admin
    .command("export")
    .description(
      "Export every definition (pipelines and their versions, action types, webhooks, agent tokens as digests, notification rules and targets) as one JSON archive; with --include-executions, finished executions too. Prints it, or writes it to --output-file.",
    )
    .option("--include-executions", "also the finished executions with their history (no logs or artifacts)")
    .option(
      "--output-file <path>",
      "write the archive to this file (created with mode 0600) instead of printing it",
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { outputFile, includeExecutions } = command.opts<{
        outputFile?: string;
        includeExecutions?: boolean;
      }>();
      const data = await ctx.request<{ exportInstallationV2: { archive: unknown } }>(
        EXPORT_INSTALLATION_MUTATION,
        {
          includeExecutions: includeExecutions === true,
        },
      );
      if (outputFile) {
        await writeFile(outputFile, `${JSON.stringify(data.exportInstallationV2.archive, null, 2)}\n`, {
          mode: 0o600,
        });
        ctx.notice(`The archive is in ${outputFile}.`);
      } else {
        ctx.print(data.exportInstallationV2.archive);
      }
    });

  admin
    .command("import")
    .description(
      "Import an archive from `sluice admin export` into this installation, in one transaction: a bad or newer archive, or a name already taken, changes nothing. Prints { import } with the steps left (webhook secrets, masked secrets).",
    )
    .requiredOption("--archive <archive>", "the archive: file://path, - (stdin) or the JSON itself")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { archive } = command.opts<{ archive: string }>();
      const data = await ctx.request<{ importInstallationV2: { installationImport: unknown } }>(
        IMPORT_INSTALLATION_MUTATION,
        {
          archive: await ctx.readInput(archive),
        },
      );
      ctx.print({ import: data.importInstallationV2.installationImport });
    });

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
      ctx.print(data.rotateMasterKeyV2.rotation);
    });

  admin
    .command("rotate-signing-key")
    .description(
      "Make a new key the one that signs jobs and cancels, without downtime: agents learn it with their " +
        "NATS credentials; the previous keys stay accepted for the grace (default 8 days and 5 minutes, " +
        "as long as a signature lasts), then are refused. Prints the new public key and the keys retiring.",
    )
    .option(
      "--grace-seconds <seconds>",
      "how long agents still accept what the previous keys signed (0: refuse it at once, for a compromised key)",
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const { graceSeconds } = command.opts<{ graceSeconds?: string }>();
      if (graceSeconds !== undefined && !/^\d{1,9}$/.test(graceSeconds))
        throw new UsageError(`--grace-seconds ${graceSeconds}: a whole number of seconds`);
      const grace = graceSeconds === undefined ? null : Number(graceSeconds);
      const data = await ctx.request<RotateSigningKeyData>(ROTATE_SIGNING_KEY_MUTATION, {
        graceSeconds: grace,
      });
      ctx.print(data.rotateSigningKey.rotation);
    });
}
