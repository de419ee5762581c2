/**
 * The policy checker's table (domain/policy/operations.ts) against the schema the code builds:
 * every `@Authorized` query, mutation and subscription has its action and resource there, the
 * table names no operation the schema lacks, and every argument it reads exists on its field.
 */
import { getNamedType, isInputObjectType, isInterfaceType, isObjectType, type GraphQLSchema } from "graphql";
import { getMetadataStorage } from "type-graphql";
import { createSchema } from "../src/graphql/schema";
import { isActionName } from "../src/domain/policy/actions";
import {
  fieldPermissions,
  nodeOperations,
  nodePermissions,
  operationPermissions,
  publicRoutes,
  routePermissions,
  type OperationPermission,
  type ResourceSpec,
} from "../src/domain/policy/operations";

let schema: GraphQLSchema;
beforeAll(async () => {
  schema = await createSchema();
});

const ROOTS = ["Query", "Mutation", "Subscription"] as const;

/** `Query.pipeline` → whether type-graphql guards it with @Authorized (on the method or its class). */
function authorizedRootFields(): Set<string> {
  const storage = getMetadataStorage();
  const byRoot = { Query: storage.queries, Mutation: storage.mutations, Subscription: storage.subscriptions };
  const authorized = new Set<string>();
  for (const root of ROOTS) {
    for (const field of byRoot[root]) {
      const guarded =
        storage.authorizedFields.some((a) => a.target === field.target && a.fieldName === field.methodName) ||
        storage.authorizedResolver.some((a) => a.target === field.target);
      if (guarded) authorized.add(`${root}.${field.schemaName}`);
    }
  }
  return authorized;
}

function schemaRootFields(): string[] {
  return ROOTS.flatMap((root) => {
    const type = schema.getType(root);
    return type && isObjectType(type) ? Object.keys(type.getFields()).map((name) => `${root}.${name}`) : [];
  });
}

/** The argument names a permission reads (the first key of each `{a.b|c}`, the lookups' ids). */
function argumentsRead({ action, resource }: OperationPermission): string[] {
  const fromTemplate = (t: string) =>
    [...t.matchAll(/\{([^}]+)\}/g)].flatMap((m) => m[1]!.split("|").map((alt) => alt.split(".")[0]!));
  const ofResource = (spec: ResourceSpec): string[] => {
    switch (spec.kind) {
      case "template":
        return fromTemplate(spec.template);
      case "execution":
        return [spec.arg, ...(spec.then ? fromTemplate(spec.then) : [])];
      case "actionExecution":
      case "principal":
      case "apiToken":
      case "role":
      case "srn":
        return [spec.arg];
      case "each":
      case "caller":
      case "public":
        return [];
    }
  };
  return [...(typeof action === "string" ? [] : [action.arg]), ...ofResource(resource)];
}

it("every @Authorized query, mutation and subscription of the schema is in operationPermissions, and only those", () => {
  const fields = schemaRootFields();
  const authorized = authorizedRootFields();
  // Secure by default: no root field escapes the checker.
  expect(fields.filter((f) => !authorized.has(f))).toEqual([]);
  expect([...Object.keys(operationPermissions), ...Object.keys(nodeOperations)].sort()).toEqual(
    [...fields].sort(),
  );
});

it("every Node type has its permission in nodePermissions, and only those; node and nodes take their ids", () => {
  const node = schema.getType("Node");
  if (!node || !isInterfaceType(node)) throw new Error("no Node interface");
  const implementations = schema.getPossibleTypes(node).map((type) => type.name);
  expect(Object.keys(nodePermissions).sort()).toEqual([...implementations].sort());
  for (const [type, permission] of Object.entries(nodePermissions) as [string, OperationPermission][]) {
    expect([type, isActionName(permission.action as string)]).toEqual([type, true]);
    // The arguments a node's permission reads are fields of the node (its first key).
    const fields = Object.keys((schema.getType(type) as { getFields(): object }).getFields());
    const hidden = ["pipelineName"]; // kept on stages, actions, attempts and versions for this
    for (const arg of argumentsRead(permission))
      expect([type, arg, [...fields, ...hidden].includes(arg)]).toEqual([type, arg, true]);
  }
  for (const [key, { ids }] of Object.entries(nodeOperations)) {
    const field = schema.getQueryType()!.getFields()[key.split(".")[1]!]!;
    expect(field.args.map((a) => a.name)).toEqual([ids]);
  }
});

it("each operation's action is catalogued and the arguments it reads are the field's", () => {
  for (const [key, permission] of Object.entries(operationPermissions) as [string, OperationPermission][]) {
    const [root, name] = key.split(".") as [string, string];
    const type = schema.getType(root);
    if (!type || !isObjectType(type)) throw new Error(`no ${root} type`);
    const field = type.getFields()[name]!;
    let args = field.args.map((a) => a.name);
    // GitHub's mutation style: the permission reads the fields of the one argument, `input`.
    if (permission.argsFrom === "input") {
      expect([key, args]).toEqual([key, ["input"]]);
      const input = getNamedType(field.args[0]!.type);
      if (!isInputObjectType(input)) throw new Error(`${key}: input is not an input object`);
      args = Object.keys(input.getFields());
    }
    const { action } = permission;
    for (const a of typeof action === "string" ? [action] : [action.whenTrue, action.whenFalse]) {
      expect([key, isActionName(a)]).toEqual([key, true]);
    }
    expect([key, argumentsRead(permission).filter((arg) => !args.includes(arg))]).toEqual([key, []]);
  }
});

it("the nested fields and routes of the table exist and use catalogued actions", () => {
  for (const [key, permission] of Object.entries(fieldPermissions)) {
    const [typeName, name] = key.split(".") as [string, string];
    const type = schema.getType(typeName);
    expect([key, type && isObjectType(type) && name in type.getFields()]).toEqual([key, true]);
    expect(isActionName(permission.action)).toBe(true);
  }
  for (const permission of Object.values(routePermissions))
    expect(isActionName(permission.action)).toBe(true);
});

it("a public route (sign-in) is not also a route that needs a permission, and says why it is public", () => {
  for (const [route, why] of Object.entries(publicRoutes)) {
    expect([route, Object.hasOwn(routePermissions, route)]).toEqual([route, false]);
    expect(why.length).toBeGreaterThan(10);
  }
});
