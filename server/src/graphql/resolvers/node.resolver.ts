import { Arg, Authorized, Ctx, FieldResolver, ID, Info, Query, Resolver, Root } from "type-graphql";
import type { GraphQLResolveInfo } from "graphql";
import { mayReadNode } from "../../auth/authorization";
import { actingAccount } from "../../auth/principal";
import { createRegistry } from "../../domain/action-types/builtins";
import type { ExecutionView } from "../../domain/execution";
import { DomainError } from "../../domain/errors";
import { isNodeTypeName, type NodeTypeName } from "../../domain/policy";
import type { GraphQLContext } from "../context";
import { stageInExecution, toPipelineType, type ActionInExecution, type StageInExecution } from "../mappers";
import { decodeNodeId, encodeNodeId } from "../node-id";
import { shownConfiguration } from "../secrets";
import { NODE_TYPE, NodeInterface } from "../types/node.type";
import { agentType } from "./agent.resolver";
import { auditEventType } from "./audit.resolver";
import { policyType, tokenType } from "./identity.resolver";
import { deliveryView, ruleView, targetView } from "./notification.resolver";

type Loaded = object | null;

/**
 * Whether the execution is of a pipeline of the account the caller acts in: the node permissions
 * name the pipeline by name only, so another account's execution is refused here, as unknown.
 */
async function ownExecution(ctx: GraphQLContext, executionId: string): Promise<boolean> {
  const found = await ctx.engine.executions.pipelineOfExecution(executionId);
  return found !== null && found.account === actingAccount(ctx.principal!);
}

/**
 * Each node type: the parts of its global id (from an object as the other fields return it), and
 * how `node` loads it back from those parts, in the shape its type's resolvers take.
 */
const NODE_TYPES: {
  [T in NodeTypeName]: {
    /** How many parts its id has. */
    arity: number;
    parts: (root: never) => ReadonlyArray<string | number>;
    load: (ctx: GraphQLContext, parts: string[]) => Promise<Loaded>;
  };
} = {
  Pipeline: {
    arity: 1,
    parts: (p: { name: string }) => [p.name],
    load: async (ctx, [name]) => {
      const entity = await ctx.store.findByName(actingAccount(ctx.principal!), name!);
      return entity && toPipelineType(entity);
    },
  },
  PipelineVersion: {
    arity: 2,
    parts: (v: { pipelineName: string; version: number }) => [v.pipelineName, v.version],
    load: async (ctx, [name, version]) => {
      if (!/^[1-9]\d{0,8}$/.test(version!)) return null;
      const entity = await ctx.store.findByName(actingAccount(ctx.principal!), name!);
      const found = entity && (await ctx.store.findVersion(entity.id, Number(version)));
      return (
        found && {
          version: found.version,
          createdBy: found.createdBy,
          createdAt: found.createdAt,
          source: found.document,
          pipelineName: entity!.name,
        }
      );
    },
  },
  PipelineExecution: {
    arity: 1,
    parts: (e: { executionId: string }) => [e.executionId],
    load: async (ctx, [id]) =>
      (await ownExecution(ctx, id!))
        ? ((await ctx.engine.executions.findExecution<ExecutionView>(id!))?.view ?? null)
        : null,
  },
  StageExecution: {
    arity: 2,
    parts: (s: StageInExecution) => [s.executionId, s.stageName],
    load: async (ctx, [id, stageName]) => {
      if (!(await ownExecution(ctx, id!))) return null;
      const execution = (await ctx.engine.executions.findExecution<ExecutionView>(id!))?.view;
      const stage = execution?.stages.find((s) => s.stageName === stageName);
      return stage ? stageInExecution(execution!, stage) : null;
    },
  },
  ActionExecution: {
    arity: 3,
    parts: (a: ActionInExecution) => [a.executionId, a.stageName, a.actionName],
    load: async (ctx, [id, stageName, actionName]) => {
      if (!(await ownExecution(ctx, id!))) return null;
      const execution = (await ctx.engine.executions.findExecution<ExecutionView>(id!))?.view;
      const stage = execution?.stages.find((s) => s.stageName === stageName);
      return (
        (stage && stageInExecution(execution!, stage).actions.find((a) => a.actionName === actionName)) ??
        null
      );
    },
  },
  ActionAttempt: {
    arity: 1,
    parts: (a: { actionExecutionId: string }) => [a.actionExecutionId],
    load: async (ctx, [id]) => {
      const located = await ctx.engine.executions.locateActionExecution(id!);
      if (located && !(await ownExecution(ctx, located.executionId))) return null;
      const execution =
        located && (await ctx.engine.executions.findExecution<ExecutionView>(located.executionId))?.view;
      for (const action of execution?.stages.flatMap((s) => s.actions) ?? []) {
        const attempt = action.attempts.find((t) => t.actionExecutionId === id);
        if (!attempt) continue;
        // Secret configuration values show masked, as under ActionExecution.attempts.
        const shown = await shownConfiguration(ctx, action.actionTypeId, attempt.resolvedConfiguration);
        return { ...attempt, resolvedConfiguration: shown, pipelineName: execution!.pipelineName };
      }
      return null;
    },
  },
  ActionTypeDeclaration: {
    arity: 4,
    parts: (t: { id: { category: string; owner: string; provider: string; version: string } }) => [
      t.id.category,
      t.id.owner,
      t.id.provider,
      t.id.version,
    ],
    load: async (ctx, [category, owner, provider, version]) =>
      createRegistry(await ctx.store.customActionTypes())
        .all()
        .find(
          (t) =>
            t.id.category === category &&
            t.id.owner === owner &&
            t.id.provider === provider &&
            t.id.version === version,
        ) ?? null,
  },
  Agent: {
    arity: 1,
    parts: (a: { id: string }) => [a.id],
    load: async (ctx, [id]) => {
      const row = await ctx.agents.find(id!);
      return row && row.account === actingAccount(ctx.principal!) ? agentType(row) : null;
    },
  },
  AgentToken: {
    arity: 1,
    parts: (t: { id: string }) => [t.id],
    load: async (ctx, [id]) =>
      (await ctx.agents.listTokens(actingAccount(ctx.principal!))).find((t) => t.id === id) ?? null,
  },
  ApiToken: {
    arity: 1,
    parts: (t: { id: string }) => [t.id],
    load: async (ctx, [id]) => {
      const row = (await ctx.identity.apiTokens(null, ctx.principal!)).find((t) => t.id === id);
      return row ? tokenType(row) : null;
    },
  },
  Policy: {
    arity: 1,
    parts: (p: { name: string }) => [p.name],
    load: async (ctx, [name]) => {
      const row = (await ctx.identity.policies(ctx.principal!)).find((p) => p.name === name);
      return row ? policyType(row) : null;
    },
  },
  AuditEvent: {
    arity: 1,
    parts: (e: { id: string }) => [e.id],
    load: async (ctx, [id]) => {
      const row = await ctx.audit.find(id!);
      return row && auditEventType(row);
    },
  },
  NotificationRule: {
    arity: 1,
    parts: (r: { id: string }) => [r.id],
    load: async (ctx, [id]) => {
      const row = await ctx.notifications.store.findRule(id!);
      return row && row.account === actingAccount(ctx.principal!) ? ruleView(row) : null;
    },
  },
  NotificationTarget: {
    arity: 1,
    parts: (t: { id: string }) => [t.id],
    load: async (ctx, [id]) => {
      const row = await ctx.notifications.store.findTarget(id!);
      return row && row.account === actingAccount(ctx.principal!) ? targetView(ctx, row) : null;
    },
  },
  NotificationDelivery: {
    arity: 1,
    parts: (d: { id: string }) => [d.id],
    load: async (ctx, [id]) => {
      const row = await ctx.notifications.store.findDelivery(id!);
      return row && row.account === actingAccount(ctx.principal!) ? deliveryView(ctx, row) : null;
    },
  },
};

const MAX_NODES = 100;

/** The node of a global id, when it exists and the caller may read it; null otherwise (alike). */
async function loadNode(ctx: GraphQLContext, id: string): Promise<object | null> {
  const decoded = decodeNodeId(id);
  if (!decoded || !isNodeTypeName(decoded.type)) return null;
  const type = decoded.type;
  const spec = NODE_TYPES[type];
  if (decoded.parts.length !== spec.arity) return null;
  const node = await spec.load(ctx, decoded.parts);
  if (!node || !(await mayReadNode(ctx.principal, type, node, ctx.lookups))) return null;
  return Object.assign(node, { [NODE_TYPE]: type });
}

@Resolver(() => NodeInterface)
export class NodeResolver {
  @Authorized()
  @Query(() => NodeInterface, {
    nullable: true,
    description:
      "The object of a global id (`nodeId` of any Node); null when there is none or the caller may not read it (the same answer).",
  })
  node(@Ctx() ctx: GraphQLContext, @Arg("id", () => ID) id: string): Promise<object | null> {
    return loadNode(ctx, id);
  }

  @Authorized()
  @Query(() => [NodeInterface], {
    nullable: "items",
    description: `The objects of several global ids (at most ${MAX_NODES}), in their order; null for each that node(id) answers null.`,
  })
  async nodes(
    @Ctx() ctx: GraphQLContext,
    @Arg("ids", () => [ID]) ids: string[],
  ): Promise<Array<object | null>> {
    if (ids.length > MAX_NODES) {
      const message = `ids holds ${ids.length} ids; at most ${MAX_NODES} are read at once.`;
      throw new DomainError("BAD_USER_INPUT", message, { validationErrors: [{ path: "ids", message }] });
    }
    const found: Array<object | null> = [];
    for (const id of ids) found.push(await loadNode(ctx, id));
    return found;
  }

  @FieldResolver(() => ID)
  nodeId(@Root() root: object, @Info() info: GraphQLResolveInfo): string {
    const type = info.parentType.name;
    if (!isNodeTypeName(type)) throw new Error(`${type} is not a Node type.`);
    return encodeNodeId(type, NODE_TYPES[type].parts(root as never));
  }
}
