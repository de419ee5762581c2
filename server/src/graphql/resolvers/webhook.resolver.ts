import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root, UseMiddleware } from "type-graphql";
import { auditMutations } from "../audit";
import { NotFoundError } from "../../domain/errors";
import type { GraphQLContext } from "../context";
import { PipelineType } from "../types/pipeline.type";
import { CreatePipelineWebhookPayload, PipelineWebhookType } from "../types/webhook.type";

function webhookUrl(ctx: GraphQLContext, pipelineName: string): string {
  return `${ctx.publicUrl}/webhooks/${encodeURIComponent(pipelineName)}`;
}

async function pipelineId(ctx: GraphQLContext, name: string): Promise<string> {
  const pipeline = await ctx.store.findByName(name);
  if (!pipeline) throw new NotFoundError(`No pipeline is named "${name}".`);
  return pipeline.id;
}

@Resolver(() => PipelineType)
export class PipelineWebhookResolver {
  @FieldResolver(() => PipelineWebhookType, {
    nullable: true,
    description: "Where pushes start executions of this pipeline; null until createPipelineWebhook.",
  })
  async webhook(
    @Root() pipeline: PipelineType,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PipelineWebhookType | null> {
    const hook = await ctx.webhooks.find(pipeline.id);
    return hook ? { url: webhookUrl(ctx, pipeline.name), ...hook } : null;
  }

  @Authorized("sluice:CreateWebhook")
  @UseMiddleware(auditMutations)
  @Mutation(() => CreatePipelineWebhookPayload, {
    description:
      "Creates the pipeline's webhook, or replaces its secret. A verified push to a branch a Git source follows (or that matches its trigger filters) starts an execution with trigger Webhook.",
  })
  async createPipelineWebhook(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName") pipelineName: string,
  ): Promise<CreatePipelineWebhookPayload> {
    const { secret } = await ctx.webhooks.create(await pipelineId(ctx, pipelineName), ctx.principal!.id);
    return { url: webhookUrl(ctx, pipelineName), secret };
  }

  @Authorized("sluice:DeleteWebhook")
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, { description: "Removes the pipeline's webhook: pushes are refused from now on." })
  async deletePipelineWebhook(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName") pipelineName: string,
  ): Promise<boolean> {
    const removed = await ctx.webhooks.delete(await pipelineId(ctx, pipelineName));
    if (!removed) throw new NotFoundError(`Pipeline "${pipelineName}" has no webhook.`);
    return true;
  }
}
