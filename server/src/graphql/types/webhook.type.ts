import { Field, ObjectType } from "type-graphql";

@ObjectType("PipelineWebhook", {
  description:
    "Where Git hosts send pushes for a pipeline (GitHub, Gitea/Forgejo: HMAC `X-Hub-Signature-256`; GitLab: `X-Gitlab-Token`).",
})
export class PipelineWebhookType {
  @Field({ description: "POST pushes here (content type application/json)." })
  url!: string;

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true, description: "The last delivery whose signature was valid." })
  lastDeliveryAt!: Date | null;
}

@ObjectType("CreatePipelineWebhookPayload")
export class CreatePipelineWebhookPayload {
  @Field()
  url!: string;

  @Field({
    description: "The secret to configure on the Git host. Shown only here; creating again replaces it.",
  })
  secret!: string;
}
