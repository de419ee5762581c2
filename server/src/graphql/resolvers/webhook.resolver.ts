import { Arg, Authorized, Ctx, FieldResolver, Mutation, Resolver, Root, UseMiddleware } from "type-graphql";
import { auditMutations } from "../audit";
import { actingAccount, DEFAULT_ACCOUNT } from "../../auth/principal";
import { NotFoundError } from "../../domain/errors";
import type { GraphQLContext } from "../context";
import { PipelineType } from "../types/pipeline.type";
import { CreatePipelineWebhookPayload, PipelineWebhookType } from "../types/webhook.type";
import {
  DeleteWebhookInput,
  DeleteWebhookPayload,
  PutWebhookInput,
  PutWebhookPayload,
} from "../types/mutation-io";
import { payload, type InputOf } from "../types/mutation";
import { deprecated } from "../deprecations";

/** `/webhooks/<name>` for a pipeline of the default account, `/webhooks/<account>/<name>` otherwise. */
function webhookUrl(ctx: GraphQLContext, pipelineName: string, account: string): string {
  const path = account === DEFAULT_ACCOUNT ? "" : `${encodeURIComponent(account)}/`;
  return `${ctx.publicUrl}/webhooks/${path}${encodeURIComponent(pipelineName)}`;
}

async function pipelineId(ctx: GraphQLContext, name: string): Promise<string> {
  const pipeline = await ctx.store.findByName(actingAccount(ctx.principal!), name);
  if (!pipeline) throw new NotFoundError(`No pipeline is named "${name}".`);
  return pipeline.id;
}

@Resolver(() => PipelineType)
export class PipelineWebhookResolver {
  @FieldResolver(() => PipelineWebhookType, {
    nullable: true,
    description: "Where pushes start executions of this pipeline; null until putWebhook.",
  })
  async webhook(
    @Root() pipeline: PipelineType,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PipelineWebhookType | null> {
    const hook = await ctx.webhooks.find(pipeline.id);
    return hook ? { url: webhookUrl(ctx, pipeline.name, pipeline.account), ...hook } : null;
  }

  @Authorized("sluice:CreateWebhook")
  @UseMiddleware(auditMutations)
  @Mutation(() => PutWebhookPayload, {
    description:
      "Creates the pipeline's webhook, or replaces its secret (CodePipeline's PutWebhook). A verified push to a branch a Git source follows (or that matches its trigger filters) starts an execution with trigger Webhook.",
  })
  async putWebhook(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => PutWebhookInput) input: InputOf<typeof PutWebhookInput>,
  ) {
    const { secret } = await ctx.webhooks.create(
      await pipelineId(ctx, input.pipelineName),
      ctx.principal!.id,
    );
    return payload(input, {
      url: webhookUrl(ctx, input.pipelineName, actingAccount(ctx.principal!)),
      secret,
    });
  }

  @Authorized("sluice:CreateWebhook")
  @UseMiddleware(auditMutations)
  @Mutation(() => CreatePipelineWebhookPayload, {
    description: "Creates the pipeline's webhook, or replaces its secret.",
    ...deprecated("createPipelineWebhook"),
  })
  async createPipelineWebhook(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName") pipelineName: string,
  ): Promise<CreatePipelineWebhookPayload> {
    const { url, secret } = await this.putWebhook(ctx, { pipelineName });
    return { url, secret };
  }

  @Authorized("sluice:DeleteWebhook")
  @UseMiddleware(auditMutations)
  @Mutation(() => DeleteWebhookPayload, {
    description: "Removes the pipeline's webhook: pushes are refused from now on.",
  })
  async deleteWebhook(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => DeleteWebhookInput) input: InputOf<typeof DeleteWebhookInput>,
  ) {
    const removed = await ctx.webhooks.delete(await pipelineId(ctx, input.pipelineName));
    if (!removed) throw new NotFoundError(`Pipeline "${input.pipelineName}" has no webhook.`);
    return payload(input, { pipelineName: input.pipelineName });
  }

  @Authorized("sluice:DeleteWebhook")
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Removes the pipeline's webhook.",
    ...deprecated("deletePipelineWebhook"),
  })
  async deletePipelineWebhook(
    @Ctx() ctx: GraphQLContext,
    @Arg("pipelineName") pipelineName: string,
  ): Promise<boolean> {
    await this.deleteWebhook(ctx, { pipelineName });
    return true;
  }
}
