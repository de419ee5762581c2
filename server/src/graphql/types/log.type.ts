import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { DateTimeScalar } from "./scalars";

export enum LogStreamEnum {
  stdout = "stdout",
  stderr = "stderr",
  system = "system",
}
registerEnumType(LogStreamEnum, {
  name: "LogStream",
  description: "stdout and stderr of the job's processes; system: the agent's own narration.",
});

@ObjectType("LogLine", { description: "One line of an action execution's log." })
export class LogLineType {
  @Field(() => Int, { description: "1 for the first line of the attempt, +1 per line." })
  sequence!: number;

  @Field(() => DateTimeScalar, {
    description: "When the agent read it (to within the agent's 200 ms batching).",
  })
  at!: string;

  @Field(() => LogStreamEnum)
  stream!: LogStreamEnum;

  @Field({ description: "The line without its newline." })
  text!: string;
}

@ObjectType("LogLineConnection")
export class LogLineConnectionType {
  @Field(() => [LogLineType])
  nodes!: LogLineType[];

  @Field({ description: "More lines are stored after the last one returned: ask again with `after`." })
  hasNextPage!: boolean;

  @Field(() => Int, {
    description: "The sequence of the last line returned (or `after` when none): the next `after`.",
  })
  endCursor!: number;

  @Field({
    description:
      "Where the next page starts (opaque; pass it as `afterCursor`). Reading from it costs the page's lines only, however long the log before it.",
  })
  cursor!: string;

  @Field({ description: "The attempt has ended: no line will be added." })
  complete!: boolean;
}
