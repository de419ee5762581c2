import { Field, Int, ObjectType } from "type-graphql";

@ObjectType("Version", { description: "The server's software and the agent protocol it speaks." })
export class VersionType {
  @Field({ description: "The server software's version." })
  server!: string;

  @Field(() => Int, { description: "The agent protocol version the server speaks (agents report theirs)." })
  protocol!: number;

  @Field(() => Int, { description: "The oldest agent protocol version the server still accepts." })
  minProtocol!: number;
}
