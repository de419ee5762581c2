import { Field, ID, Int, ObjectType } from "type-graphql";
import { NodeInterface } from "./node.type";
import { Connection } from "./connection";
import { JSONObjectScalar } from "./scalars";

@ObjectType("AuditEvent", {
  implements: NodeInterface,
  description: "A mutation someone made, and how it went.",
})
export class AuditEventType {
  @Field(() => ID)
  id!: string;

  @Field()
  at!: Date;

  @Field({ description: "Who asked: the principal's id (admin, …), or anonymous." })
  principal!: string;

  @Field({
    description:
      "The mutation (createPipelineV2, startPipelineExecution, releaseChange (deprecated), …), or the refused query or subscription (pipeline, actionLog, Pipeline.state, …).",
  })
  operation!: string;

  @Field(() => String, { nullable: true })
  pipelineName!: string | null;

  @Field(() => String, { nullable: true, description: "What else it was about, e.g. executionId=…" })
  target!: string | null;

  @Field(() => JSONObjectScalar, {
    description: "Its arguments, secrets masked and documents reduced to their name.",
  })
  arguments!: Record<string, unknown>;

  @Field({ description: "ok, or the error code (BAD_USER_INPUT, CONFLICT, UNAUTHENTICATED, …)." })
  outcome!: string;

  @Field(() => String, { nullable: true })
  error!: string | null;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field({ description: "The account acted in (the assumed role's, in a role session)." })
  account!: string;

  @Field({ description: "The account of the principal who asked." })
  principalAccount!: string;

  @Field(() => String, {
    nullable: true,
    description: "In a role session: the role (its SRN) and the session name; the principal is the real one.",
  })
  assumedRole!: string | null;

  @Field(() => Int, {
    description:
      "How many requests the row stands for: 1, or for a refused query or subscription (recorded within a budget: one row per principal, operation and resource per window) how many were refused in its window.",
  })
  occurrences!: number;
}

export const AuditEventConnection = Connection(AuditEventType, "AuditEvent");
