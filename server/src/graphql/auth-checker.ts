import { isNonNullType } from "graphql";
import type { AuthChecker } from "type-graphql";
import { authorize } from "../auth/authorization";
import { refusedAccess } from "../auth/refused-reads";
import { DomainError } from "../domain/errors";
import {
  fieldPermissions,
  nodeOperations,
  operationPermissions,
  PUBLIC_OPERATIONS,
  type OperationPermission,
} from "../domain/policy";
import { auditRefusal } from "./audit";
import type { GraphQLContext } from "./context";

const ROOTS = new Set(["Query", "Mutation", "Subscription"]);
const permissions: Record<string, OperationPermission> = { ...operationPermissions, ...fieldPermissions };
const PUBLIC = new Set(PUBLIC_OPERATIONS);

/**
 * The one authorization checker of every query, mutation and subscription (the graphql-ws
 * server runs the same schema, so subscriptions pass through it too), and of the nested fields of
 * `fieldPermissions`. What each needs is in domain/policy/operations.ts (`Query.pipeline`:
 * sluice:GetPipeline on `pipeline/{name}`); auth/authorization.ts decides, as for the HTTP routes.
 * A field without an entry there is refused: nothing escapes the checker by omission. It throws
 * its refusals (the schema's authMode is "null": `false` is kept for the one answer that is null).
 */
export const authChecker: AuthChecker<GraphQLContext> = async ({ root: source, context, info, args }) => {
  const key = `${info.parentType.name}.${info.fieldName}`;
  // signIn: open to anyone (operations.ts, `public`); it refuses bad credentials itself, audited.
  if (PUBLIC.has(key)) return true;
  // A nested field (`Pipeline.state`) is decided on its parent object.
  const permissionArgs = ROOTS.has(info.parentType.name) ? args : (source as Record<string, unknown>);
  const permission = permissions[key];
  if (!context.principal) {
    const message = "A valid API token is required: send it as `Authorization: Bearer <token>`.";
    // Every denied operation is in the audit log (within a budget: audit.ts, refused-reads.ts).
    const access = await refusedAccess(permission, permissionArgs, null);
    await auditRefusal(context, info, permissionArgs, "UNAUTHENTICATED", message, access);
    throw new DomainError("UNAUTHENTICATED", message);
  }
  // node / nodes: any caller may ask; the resolver decides each node (auth/authorization.ts
  // mayReadNode, the same authorize() below) and answers null for one it may not read.
  if (Object.hasOwn(nodeOperations, key)) return true;
  const result = permission
    ? await authorize(context.principal, permission, permissionArgs, context.lookups)
    : ({ ok: false, code: "FORBIDDEN", message: `${key} has no permission declared.` } as const);
  if (result.ok) return true;
  // A query that answers null for an unknown id (pipelineExecution) answers null for one the
  // caller may not know of too: the same answer, so existence does not leak.
  if (result.code === "NOT_FOUND" && info.parentType.name === "Query" && !isNonNullType(info.returnType)) {
    return false;
  }
  const access = await refusedAccess(permission, permissionArgs, context.principal);
  await auditRefusal(context, info, permissionArgs, result.code, result.message, access);
  throw new DomainError(result.code, result.message);
};
