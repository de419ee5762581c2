import { getNamedType, isAbstractType, isObjectType, type GraphQLArgument, type GraphQLField } from "graphql";

/** Arguments without a default must be sent. */
export function required(arg: GraphQLArgument): boolean {
  return arg.type.toString().endsWith("!") && arg.defaultValue === undefined;
}

/** A syntactically valid selection for any root field, with its required arguments as variables. */
export function operationFor(
  kind: "query" | "mutation" | "subscription",
  field: GraphQLField<unknown, unknown>,
): string {
  const args = field.args.filter(required).map((a) => `${a.name}: $${a.name}`);
  const vars = field.args.filter(required).map((a) => `$${a.name}: ${a.type.toString()}`);
  const type = getNamedType(field.type);
  const selection = isObjectType(type) || isAbstractType(type) ? ` { __typename }` : "";
  return `${kind}${vars.length ? `(${vars.join(", ")})` : ""} { ${field.name}${args.length ? `(${args.join(", ")})` : ""}${selection} }`;
}

const DUMMIES: Record<string, unknown> = {
  Int: 1,
  Boolean: false,
  String: "x",
  JSON: {},
  JSONObject: {},
  PipelineInput: { name: "x", stages: [] },
  CustomActionTypeInput: {
    category: "Build",
    provider: "x",
    version: "1",
    inputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
    outputArtifactDetails: { minimumCount: 0, maximumCount: 0 },
  },
  NotificationRuleInput: { name: "x", eventTypes: [], targetIds: [] },
  NotificationTargetInput: { name: "x", kind: "WEBHOOK" },
};

/** Values of the right type for every required argument (names "x"; they name nothing that exists). */
export function dummyVariables(field: GraphQLField<unknown, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const arg of field.args) {
    if (!required(arg)) continue;
    const named = getNamedType(arg.type).name;
    values[arg.name] = arg.type.toString().startsWith("[") ? [] : (DUMMIES[named] ?? "x");
  }
  return values;
}
