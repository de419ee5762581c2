import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from "type-graphql";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { InstallationImportType } from "../types/archive.type";
import { JSONScalar } from "../types/scalars";
import {
  ExportInstallationInput,
  ExportInstallationPayload,
  ImportInstallationInput,
  ImportInstallationPayload,
} from "../types/mutation-io";
import { payload, type InputOf } from "../types/mutation";
import { deprecated } from "../deprecations";

/**
 * Backup and restore of the installation's definitions (docs/backup.md). Both are mutations so
 * that both are in the audit log: an export holds every definition and the agent tokens' digests.
 */
@Resolver()
export class ArchiveResolver {
  @Authorized("sluice:ExportInstallation")
  @UseMiddleware(auditMutations)
  @Mutation(() => ExportInstallationPayload, {
    description:
      "Every definition of this installation as one versioned archive: pipelines with all their versions, custom action types, webhooks (without secrets), agent tokens (as digests), notification targets (secrets masked) and rules. Executions only with includeExecutions; logs and artifacts never (docs/backup.md).",
  })
  async exportInstallationV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => ExportInstallationInput) input: InputOf<typeof ExportInstallationInput>,
  ) {
    return payload(input, {
      archive: await ctx.archives.export({ includeExecutions: input.includeExecutions }),
    });
  }

  @Authorized("sluice:ExportInstallation")
  @UseMiddleware(auditMutations)
  @Mutation(() => JSONScalar, {
    description: "Every definition of this installation as one versioned archive.",
    ...deprecated("exportInstallation"),
  })
  async exportInstallation(
    @Ctx() ctx: GraphQLContext,
    @Arg("includeExecutions", {
      defaultValue: false,
      description:
        "Also the finished executions with their history (secret values masked); their logs and artifacts stay in NATS.",
    })
    includeExecutions: boolean,
  ): Promise<unknown> {
    return (await this.exportInstallationV2(ctx, { includeExecutions })).archive;
  }

  @Authorized("sluice:ImportInstallation")
  @UseMiddleware(auditMutations)
  @Mutation(() => ImportInstallationPayload, {
    description:
      "Adds what an archive from exportInstallationV2 holds to this installation, in one transaction. A newer format version, a bad archive or a name already taken is refused and changes nothing.",
  })
  async importInstallationV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => ImportInstallationInput) input: InputOf<typeof ImportInstallationInput>,
  ) {
    return payload(input, { installationImport: await ctx.archives.import(input.archive, ctx.principal!) });
  }

  @Authorized("sluice:ImportInstallation")
  @UseMiddleware(auditMutations)
  @Mutation(() => InstallationImportType, {
    description: "Adds what an archive from exportInstallation holds to this installation.",
    ...deprecated("importInstallation"),
  })
  async importInstallation(
    @Ctx() ctx: GraphQLContext,
    @Arg("archive", () => JSONScalar) archive: unknown,
  ): Promise<InstallationImportType> {
    return (await this.importInstallationV2(ctx, { archive })).installationImport;
  }
}
