import {
  getNamedType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
} from "graphql";

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

/** A value of the type: a list is empty, an input object has its required fields (recursively). */
function dummyOf(type: GraphQLInputType): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return [];
  const named = getNamedType(inner);
  if (Object.hasOwn(DUMMIES, named.name)) return DUMMIES[named.name];
  if (isEnumType(named)) return named.getValues()[0]!.value;
  if (isInputObjectType(named)) {
    const value: Record<string, unknown> = {};
    for (const f of Object.values(named.getFields())) {
      if (isNonNullType(f.type) && f.defaultValue === undefined) value[f.name] = dummyOf(f.type);
    }
    return value;
  }
  return "x";
}

/** Values of the right type for every required argument (names "x"; they name nothing that exists). */
export function dummyVariables(field: GraphQLField<unknown, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const arg of field.args) {
    if (!required(arg)) continue;
    values[arg.name] = dummyOf(arg.type);
  }
  return values;
}

/**
 * Variables for the field with some arguments set: as arguments of an old-style mutation, or as
 * fields of `input` for a mutation of GitHub's style (only those `input` has).
 */
export function withArguments(
  field: GraphQLField<unknown, unknown>,
  variables: Record<string, unknown>,
  set: Record<string, unknown>,
): Record<string, unknown> {
  const input = field.args.find((a) => a.name === "input");
  const inputType = input ? getNamedType(input.type) : null;
  if (field.args.length === 1 && inputType && isInputObjectType(inputType) && variables.input) {
    const fields = inputType.getFields();
    const inner = Object.fromEntries(Object.entries(set).filter(([k]) => Object.hasOwn(fields, k)));
    return { ...variables, input: { ...(variables.input as object), ...inner } };
  }
  const names = new Set(field.args.map((a) => a.name));
  return { ...variables, ...Object.fromEntries(Object.entries(set).filter(([k]) => names.has(k))) };
}
