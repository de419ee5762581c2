import {
  Arg,
  Authorized,
  Ctx,
  FieldResolver,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
  UseMiddleware,
} from "type-graphql";
import { auditMutations } from "../audit";
import { srnOf, visibleItems } from "../../auth/authorization";
import { actingAccount } from "../../auth/principal";
import type { PipelineEntity } from "../../persistence/entities/pipeline.entity";
import { exportPipelineDocument } from "../../domain/pipeline/parse";
import { toAwsDocument, type AwsExportTimes } from "../../domain/pipeline/aws/export";
import type { StageEdit } from "../../domain/pipeline/edits";
import { PipelineStore } from "../../persistence/pipeline-store";
import type { GraphQLContext } from "../context";
import { toPipelineType } from "../mappers";
import { shownConfiguration, shownDocument } from "../secrets";
import { SECRET_MASK } from "../../domain/pipeline/secrets";
import { Connection, PAGE_ARG_DESCRIPTIONS, pageQuery, toConnection } from "../types/connection";
import { DocumentFormat } from "../types/enums";
import { PipelineInput, StageEditInput } from "../types/pipeline.input";
import { ActionType, ImportPipelinePayload, PipelineType, PipelineVersionType } from "../types/pipeline.type";
import { ResourceTagsType, TagFilterInput, TagInput, TagType } from "../types/tag.type";
import {
  CreatePipelineInput,
  CreatePipelinePayload,
  DeletePipelineInput,
  DeletePipelinePayload,
  EditStagesInput,
  EditStagesPayload,
  ImportPipelineInput,
  TagResourceInput,
  TagResourcePayload,
  UntagResourceInput,
  UntagResourcePayload,
  UpdatePipelineInput,
  UpdatePipelinePayload,
} from "../types/mutation-io";
import { payload, type InputOf } from "../types/mutation";
import { deprecated } from "../deprecations";
import { taggablePipeline, type Tag } from "../../domain/pipeline/tags";
import { formatSrn } from "../../domain/policy/srn";
import { NotFoundError, ValidationError } from "../../domain/errors";
import { JSONObjectScalar, JSONScalar } from "../types/scalars";
import { toPlainJson, withoutNulls } from "./plain";
import type { ActionDeclaration, PipelineDocument } from "../../domain/pipeline/document";

const PipelineConnection = Connection(PipelineType, "Pipeline");
const PipelineVersionConnection = Connection(PipelineVersionType, "PipelineVersion");

export function renderDocument(
  document: PipelineDocument,
  format: DocumentFormat,
  times?: AwsExportTimes,
): unknown {
  return format === DocumentFormat.AWS ? toAwsDocument(document, times) : exportPipelineDocument(document);
}

/** The tags as given, without the class instances type-graphql makes of inputs. */
const plainTags = (tags: readonly TagInput[] | null | undefined): Tag[] =>
  (tags ?? []).map(({ key, value }) => ({ key, value }));

/**
 * The pipeline a tagging operation names (the checker has read `resourceArn` the same way:
 * domain/policy/operations.ts, kind `srn`).
 */
function pipelineOfResource(ctx: GraphQLContext, resourceArn: string): { name: string; srn: string } {
  const found = taggablePipeline(resourceArn);
  const account = actingAccount(ctx.principal!);
  if (!found || (found.account !== null && found.account !== account)) {
    throw new ValidationError([
      {
        path: "resourceArn",
        message:
          "must name a pipeline: srn:sluice:<account>:pipeline/<name>, pipeline/<name> or arn:sluice:codepipeline:::<name>.",
      },
    ]);
  }
  return { name: found.name, srn: formatSrn(account, { type: "pipeline", pipeline: found.name }) };
}

/** A new pipeline starts one execution by itself (trigger CreatePipeline). */
async function startFirstExecution(ctx: GraphQLContext, pipelineName: string): Promise<void> {
  await ctx.engine.releaseChange({
    account: actingAccount(ctx.principal!),
    pipelineName,
    trigger: { triggerType: "CreatePipeline", triggerDetail: ctx.principal!.id },
  });
}

@Resolver(() => PipelineType)
export class PipelineResolver {
  @Authorized("sluice:ListPipelines")
  @Query(() => PipelineConnection, { description: "Pipelines, the most recently active first." })
  async pipelines(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.first(20) })
    first: number | null,
    @Arg("after", () => String, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.after })
    after: string | null,
    @Arg("last", () => Int, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.last }) last: number | null,
    @Arg("before", () => String, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.before })
    before: string | null,
    @Arg("tag", () => TagFilterInput, {
      nullable: true,
      description:
        "Only the pipelines holding this tag (its key, and its value when given); totalCount counts them.",
    })
    tag: TagFilterInput | null,
  ) {
    const page = pageQuery({ first, after, last, before }, 20);
    const filter = tag ? { key: tag.key, value: tag.value ?? null } : null;
    // Only the pipelines the caller may list (sluice:ListPipelines on each): pages are read until
    // `size` of them, and one more, are found, or the list ends.
    const visible: Array<{ entity: PipelineEntity; cursor: string }> = [];
    let cursor = page.cursor;
    // The pipelines of the account the caller acts in, and of no other.
    const account = actingAccount(ctx.principal!);
    for (;;) {
      const rows = await ctx.store.pageByActivity(account, { ...page, cursor }, filter);
      visible.push(
        ...visibleItems(ctx.principal, "sluice:ListPipelines", rows, (r) =>
          srnOf.pipeline(r.entity.account, r.entity.name),
        ),
      );
      if (visible.length > page.size || rows.length <= page.size) break;
      cursor = rows.at(-1)!.cursor;
    }
    return toConnection(
      visible,
      page,
      (row) => row.cursor,
      (row) => toPipelineType(row.entity),
      async () =>
        visibleItems(ctx.principal, "sluice:ListPipelines", await ctx.store.names(account, filter), (name) =>
          srnOf.pipeline(account, name),
        ).length,
    );
  }

  @Authorized("sluice:GetPipeline")
  @Query(() => PipelineType, {
    nullable: true,
    description: "A pipeline by name, at its current version or at `version`; null when there is none.",
  })
  async pipeline(
    @Ctx() ctx: GraphQLContext,
    @Arg("name") name: string,
    @Arg("version", () => Int, { nullable: true }) version: number | null,
  ): Promise<PipelineType | null> {
    const entity = await ctx.store.findByName(actingAccount(ctx.principal!), name);
    if (!entity) return null;
    if (version === null || version === undefined || version === entity.version)
      return toPipelineType(entity);
    const old = await ctx.store.findVersion(entity.id, version);
    return old ? toPipelineType(entity, old) : null;
  }

  @FieldResolver(() => JSONScalar, {
    description: `The document of the version shown. SLUICE can be posted again as createPipelineV2's input.pipeline. Secret configuration values show as "${SECRET_MASK}"; posted back unchanged to updatePipelineV2, they keep their stored value.`,
  })
  async document(
    @Root() pipeline: PipelineType,
    @Ctx() ctx: GraphQLContext,
    @Arg("format", () => DocumentFormat, { defaultValue: DocumentFormat.SLUICE }) format: DocumentFormat,
  ): Promise<unknown> {
    return renderDocument(await shownDocument(ctx, pipeline.source), format, {
      created: pipeline.createdAt,
      updated: pipeline.versionCreatedAt,
    });
  }

  @FieldResolver(() => PipelineVersionConnection, { description: "Every stored version, the newest first." })
  async versions(
    @Root() pipeline: PipelineType,
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.first(20) })
    first: number | null,
    @Arg("after", () => String, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.after })
    after: string | null,
    @Arg("last", () => Int, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.last }) last: number | null,
    @Arg("before", () => String, { nullable: true, description: PAGE_ARG_DESCRIPTIONS.before })
    before: string | null,
  ) {
    const page = pageQuery({ first, after, last, before }, 20);
    const rows = await ctx.store.pageVersions(pipeline.id, page);
    return toConnection(
      rows,
      page,
      PipelineStore.versionCursor,
      (v): PipelineVersionType => ({
        version: v.version,
        createdBy: v.createdBy,
        createdAt: v.createdAt,
        source: v.document,
        pipelineName: pipeline.name,
      }),
      () => ctx.store.countVersions(pipeline.id),
    );
  }

  @Authorized("sluice:CreatePipeline")
  @UseMiddleware(auditMutations)
  @Mutation(() => CreatePipelinePayload, {
    description:
      "Creates a pipeline from a document; version 1. `tags` as CodePipeline's CreatePipeline: at most 50, keys unique.",
  })
  async createPipelineV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CreatePipelineInput) input: InputOf<typeof CreatePipelineInput>,
  ) {
    const pipeline = await ctx.definitions.create(
      toPlainJson(input.pipeline),
      ctx.principal!,
      plainTags(input.tags),
    );
    await startFirstExecution(ctx, pipeline.name);
    return payload(input, { pipeline: toPipelineType(pipeline) });
  }

  @Authorized("sluice:CreatePipeline")
  @UseMiddleware(auditMutations)
  @Mutation(() => PipelineType, {
    description: "Creates a pipeline from a document; version 1.",
    ...deprecated("createPipeline"),
  })
  async createPipeline(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => PipelineInput) input: PipelineInput,
    @Arg("tags", () => [TagInput], { nullable: true, description: "Tags the pipeline starts with." })
    tags: TagInput[] | null,
  ) {
    return (await this.createPipelineV2(ctx, { pipeline: input, tags })).pipeline;
  }

  @Authorized("sluice:UpdatePipeline")
  @UseMiddleware(auditMutations)
  @Mutation(() => UpdatePipelinePayload, {
    description:
      "Replaces a pipeline's document (found by its name), writing a new version. CONFLICT when the stored version is not `expectedVersion`. An unchanged document writes nothing.",
  })
  async updatePipelineV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => UpdatePipelineInput) input: InputOf<typeof UpdatePipelineInput>,
  ) {
    const pipeline = await ctx.definitions.update(
      toPlainJson(input.pipeline),
      input.expectedVersion,
      ctx.principal!,
    );
    return payload(input, { pipeline: toPipelineType(pipeline) });
  }

  @Authorized("sluice:UpdatePipeline")
  @UseMiddleware(auditMutations)
  @Mutation(() => PipelineType, {
    description: "Replaces a pipeline's document, writing a new version.",
    ...deprecated("updatePipeline"),
  })
  async updatePipeline(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => PipelineInput) input: PipelineInput,
    @Arg("expectedVersion", () => Int) expectedVersion: number,
  ) {
    return (await this.updatePipelineV2(ctx, { pipeline: input, expectedVersion })).pipeline;
  }

  @Authorized("sluice:DeletePipeline")
  @UseMiddleware(auditMutations)
  @Mutation(() => DeletePipelinePayload, { description: "Deletes a pipeline and its versions." })
  async deletePipelineV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => DeletePipelineInput) input: InputOf<typeof DeletePipelineInput>,
  ) {
    await ctx.definitions.delete(actingAccount(ctx.principal!), input.name, ctx.principal!);
    return payload(input, { deletedPipelineName: input.name });
  }

  @Authorized("sluice:DeletePipeline")
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Deletes a pipeline and its versions.",
    ...deprecated("deletePipeline"),
  })
  async deletePipeline(@Ctx() ctx: GraphQLContext, @Arg("name") name: string): Promise<boolean> {
    await this.deletePipelineV2(ctx, { name });
    return true;
  }

  @Authorized("sluice:CreatePipeline")
  @UseMiddleware(auditMutations)
  @Mutation(() => ImportPipelinePayload, {
    description:
      "Creates a pipeline from Sluice's document or from `aws codepipeline get-pipeline` JSON; warns about every mapping made.",
  })
  async importPipelineV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => ImportPipelineInput) input: InputOf<typeof ImportPipelineInput>,
  ): Promise<ImportPipelinePayload> {
    const { pipeline, warnings } = await ctx.definitions.import(input.document, ctx.principal!);
    await startFirstExecution(ctx, pipeline.name);
    return payload(input, { pipeline: toPipelineType(pipeline), warnings });
  }

  @Authorized("sluice:CreatePipeline")
  @UseMiddleware(auditMutations)
  @Mutation(() => ImportPipelinePayload, {
    description: "Creates a pipeline from Sluice's document or from `aws codepipeline get-pipeline` JSON.",
    ...deprecated("importPipeline"),
  })
  async importPipeline(
    @Ctx() ctx: GraphQLContext,
    @Arg("document", () => JSONScalar) document: unknown,
  ): Promise<ImportPipelinePayload> {
    return this.importPipelineV2(ctx, { document });
  }

  @Authorized("sluice:UpdatePipeline")
  @UseMiddleware(auditMutations)
  @Mutation(() => EditStagesPayload, {
    description:
      "Applies an ordered list of stage and action edits atomically, validated as a whole: one new version.",
  })
  async editStagesV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => EditStagesInput) input: InputOf<typeof EditStagesInput>,
  ) {
    const plain = input.edits.map((edit) =>
      withoutNulls(toPlainJson(edit) as Record<string, unknown>),
    ) as StageEdit[];
    const pipeline = await ctx.definitions.editStages(
      input.pipelineName,
      input.expectedVersion,
      plain,
      ctx.principal!,
    );
    return payload(input, { pipeline: toPipelineType(pipeline) });
  }

  @Authorized("sluice:UpdatePipeline")
  @UseMiddleware(auditMutations)
  @Mutation(() => PipelineType, {
    description: "Applies an ordered list of stage and action edits atomically: one new version.",
    ...deprecated("editStages"),
  })
  async editStages(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName") pipelineName: string,
    @Arg("expectedVersion", () => Int) expectedVersion: number,
    @Arg("edits", () => [StageEditInput]) edits: StageEditInput[],
  ) {
    return (await this.editStagesV2(ctx, { pipelineName, expectedVersion, edits })).pipeline;
  }
}

/** Tags, as CodePipeline's TagResource, UntagResource and ListTagsForResource (on pipelines). */
@Resolver(() => PipelineType)
export class PipelineTagResolver {
  @Authorized("sluice:ListTagsForResource")
  @FieldResolver(() => [TagType], { description: "The pipeline's tags, by key." })
  tags(@Root() pipeline: PipelineType, @Ctx() ctx: GraphQLContext): Promise<Tag[]> {
    return ctx.store.tags(pipeline.id);
  }

  @Authorized("sluice:ListTagsForResource")
  @Query(() => ResourceTagsType, {
    description: "A pipeline's tags, by key. NOT_FOUND when no pipeline has that SRN.",
  })
  async listTagsForResource(
    @Ctx() ctx: GraphQLContext,
    @Arg("resourceArn", { description: "The pipeline's SRN (Pipeline.srn)." }) resourceArn: string,
  ): Promise<ResourceTagsType> {
    const { name, srn } = pipelineOfResource(ctx, resourceArn);
    const pipeline = await ctx.store.findByName(actingAccount(ctx.principal!), name);
    if (!pipeline) throw new NotFoundError(`No pipeline is named "${name}".`);
    return { resourceArn: srn, tags: await ctx.store.tags(pipeline.id) };
  }

  @Authorized("sluice:TagResource")
  @UseMiddleware(auditMutations)
  @Mutation(() => TagResourcePayload, {
    description:
      "Adds tags to a pipeline, or gives keys it holds new values; it then holds at most 50 (LIMIT_EXCEEDED). Bad tags: BAD_USER_INPUT with the path of each (`tags[1].key`), and nothing changes.",
  })
  async tagResourceV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => TagResourceInput) input: InputOf<typeof TagResourceInput>,
  ) {
    const { name, srn } = pipelineOfResource(ctx, input.resourceArn);
    const account = actingAccount(ctx.principal!);
    const tags = await ctx.definitions.tagResource(account, name, plainTags(input.tags));
    return payload(input, { resourceTags: { resourceArn: srn, tags } });
  }

  @Authorized("sluice:TagResource")
  @UseMiddleware(auditMutations)
  @Mutation(() => ResourceTagsType, {
    description: "Adds tags to a pipeline, or gives keys it holds new values.",
    ...deprecated("tagResource"),
  })
  async tagResource(
    @Ctx() ctx: GraphQLContext,
    @Arg("resourceArn", { description: "The pipeline's SRN (Pipeline.srn)." }) resourceArn: string,
    @Arg("tags", () => [TagInput]) tags: TagInput[],
  ): Promise<ResourceTagsType> {
    return (await this.tagResourceV2(ctx, { resourceArn, tags })).resourceTags;
  }

  @Authorized("sluice:UntagResource")
  @UseMiddleware(auditMutations)
  @Mutation(() => UntagResourcePayload, {
    description: "Removes tags from a pipeline by key; a key it does not hold is ignored.",
  })
  async untagResourceV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => UntagResourceInput) input: InputOf<typeof UntagResourceInput>,
  ) {
    const { name, srn } = pipelineOfResource(ctx, input.resourceArn);
    const account = actingAccount(ctx.principal!);
    const tags = await ctx.definitions.untagResource(account, name, input.tagKeys);
    return payload(input, { resourceTags: { resourceArn: srn, tags } });
  }

  @Authorized("sluice:UntagResource")
  @UseMiddleware(auditMutations)
  @Mutation(() => ResourceTagsType, {
    description: "Removes tags from a pipeline by key.",
    ...deprecated("untagResource"),
  })
  async untagResource(
    @Ctx() ctx: GraphQLContext,
    @Arg("resourceArn", { description: "The pipeline's SRN (Pipeline.srn)." }) resourceArn: string,
    @Arg("tagKeys", () => [String]) tagKeys: string[],
  ): Promise<ResourceTagsType> {
    return (await this.untagResourceV2(ctx, { resourceArn, tagKeys })).resourceTags;
  }
}

@Resolver(() => PipelineVersionType)
export class PipelineVersionResolver {
  @FieldResolver(() => JSONScalar, {
    description: `This version's document; secret configuration values show as "${SECRET_MASK}".`,
  })
  async document(
    @Root() version: PipelineVersionType,
    @Ctx() ctx: GraphQLContext,
    @Arg("format", () => DocumentFormat, { defaultValue: DocumentFormat.SLUICE }) format: DocumentFormat,
  ): Promise<unknown> {
    return renderDocument(await shownDocument(ctx, version.source), format);
  }
}

@Resolver(() => ActionType)
export class ActionDeclarationResolver {
  @FieldResolver(() => JSONObjectScalar)
  configuration(
    @Root() action: ActionDeclaration,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Record<string, string>> {
    return shownConfiguration(ctx, action.actionTypeId, action.configuration);
  }
}
