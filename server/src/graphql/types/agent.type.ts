import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { NodeInterface } from "./node.type";
import { ActionTypeIdType } from "./pipeline.type";
import { JSONObjectScalar } from "./scalars";
import { MutationPayload } from "./mutation";

export enum AgentStatusEnum {
  online = "online",
  busy = "busy",
  draining = "draining",
  offline = "offline",
}
registerEnumType(AgentStatusEnum, {
  name: "AgentStatus",
  description:
    "online: idle and taking jobs; busy: running jobs; draining: finishing its jobs before it leaves; offline: gone or silent for three heartbeat intervals.",
});

@ObjectType("RunningJob", { description: "A job an agent runs now: one attempt of an action execution." })
export class RunningJobType {
  @Field(() => ID, { description: "The action execution's id." })
  jobId!: string;

  @Field(() => Int)
  attempt!: number;
}

@ObjectType("Agent", { implements: NodeInterface, description: "A registered build agent." })
export class AgentType {
  @Field(() => ID)
  id!: string;

  @Field()
  name!: string;

  @Field({ description: "The pool it serves: actions whose region names it (default: `default`)." })
  pool!: string;

  @Field(() => JSONObjectScalar)
  labels!: Record<string, string>;

  @Field(() => [ActionTypeIdType], { description: "The action types it runs." })
  providers!: ActionTypeIdType[];

  @Field({ description: "The agent software's version." })
  version!: string;

  @Field(() => Int)
  protocolVersion!: number;

  @Field(() => AgentStatusEnum)
  status!: AgentStatusEnum;

  @Field(() => Int, { description: "Jobs it runs at once at most." })
  capacity!: number;

  @Field(() => Int)
  runningJobs!: number;

  @Field(() => [RunningJobType])
  running!: RunningJobType[];

  @Field()
  registeredAt!: Date;

  @Field()
  lastHeartbeat!: Date;

  @Field({ description: "Its token was revoked: it is refused from now on." })
  revoked!: boolean;
}

@ObjectType("AgentToken", {
  implements: NodeInterface,
  description: "A token agents register with; the token itself is shown only once.",
})
export class AgentTokenType {
  @Field(() => ID)
  id!: string;

  @Field()
  description!: string;

  @Field()
  createdBy!: string;

  @Field()
  createdAt!: Date;

  @Field(() => Date, { nullable: true })
  revokedAt!: Date | null;

  @Field(() => String, { nullable: true })
  revokedBy!: string | null;
}

@ObjectType("CreateAgentTokenPayload")
export class CreateAgentTokenPayload extends MutationPayload {
  @Field(() => ID)
  id!: string;

  @Field({
    description: "The secret: give it to the agent (`--token` or SLUICE_AGENT_TOKEN). Not shown again.",
  })
  token!: string;

  @Field(() => AgentTokenType)
  agentToken!: AgentTokenType;
}

@ObjectType("AgentEvent", {
  description: "An agent came online, got busy, started draining or went offline.",
})
export class AgentEventType {
  @Field(() => AgentStatusEnum)
  status!: AgentStatusEnum;

  @Field(() => AgentType)
  agent!: AgentType;
}
