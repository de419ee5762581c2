import "reflect-metadata";
import type { GraphQLSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { authChecker } from "./auth-checker";
import { ActionTypeResolver } from "./resolvers/action-type.resolver";
import { PipelineResolver, PipelineVersionResolver } from "./resolvers/pipeline.resolver";
import { DateTimeScalar } from "./types/scalars";

export const resolvers = [PipelineResolver, PipelineVersionResolver, ActionTypeResolver] as const;

/** The executable schema; the same object serves HTTP, graphql-ws and `schema.graphql`. */
export function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    authChecker,
    authMode: "error",
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    emitSchemaFile: false,
  });
}
