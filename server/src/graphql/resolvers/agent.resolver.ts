import { srnOf, visibleItems } from "../../auth/authorization";
import { actingAccount } from "../../auth/principal";
import {
  Arg,
  Args,
  Authorized,
  Ctx,
  ID,
  Mutation,
  Query,
  Resolver,
  Root,
  Subscription,
  UseMiddleware,
} from "type-graphql";
import { auditMutations } from "../audit";
import { DomainError, NotFoundError } from "../../domain/errors";
import type { AgentRow, AgentStatus } from "../../persistence/agent-store";
import { asyncQueue } from "../async-queue";
import type { GraphQLContext } from "../context";
import { Connection, connectionOfList, LIST_PAGE_SIZE, PagingArgs } from "../types/connection";
import {
  AgentEventType,
  AgentStatusEnum,
  AgentTokenType,
  AgentType,
  CreateAgentTokenPayload,
} from "../types/agent.type";
import { CreateAgentTokenInput, RevokeAgentTokenInput, RevokeAgentTokenPayload } from "../types/mutation-io";
import { payload, type InputOf } from "../types/mutation";
import { deprecated, deprecatedList } from "../deprecations";

const AgentConnection = Connection(AgentType, "Agent");
const AgentTokenConnection = Connection(AgentTokenType, "AgentToken");

const MAX_DESCRIPTION = 256;

export function agentType(row: AgentRow): AgentType {
  return {
    ...row,
    status: row.status as AgentStatusEnum,
    runningJobs: row.running.length,
    registeredAt: new Date(row.registeredAt),
    lastHeartbeat: new Date(row.lastHeartbeat),
  };
}

@Resolver(() => AgentType)
export class AgentResolver {
  @Authorized("sluice:ListAgents")
  @Query(() => [AgentType], {
    ...deprecatedList("agents"),
    description: "Registered agents, by pool and name.",
  })
  async agents(
    @Ctx() ctx: GraphQLContext,
    @Arg("pool", () => String, { nullable: true }) pool: string | null,
    @Arg("status", () => AgentStatusEnum, { nullable: true }) status: AgentStatusEnum | null,
  ): Promise<AgentType[]> {
    const account = actingAccount(ctx.principal!);
    const rows = await ctx.agents.list({ account, pool, status: status as AgentStatus | null });
    return visibleItems(ctx.principal, "sluice:ListAgents", rows, (a) =>
      srnOf.agent(a.account, a.pool, a.name),
    ).map(agentType);
  }

  @Authorized("sluice:ListAgents")
  @Query(() => AgentConnection, { description: "Registered agents, by pool and name." })
  async agentsV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("pool", () => String, { nullable: true }) pool: string | null,
    @Arg("status", () => AgentStatusEnum, { nullable: true }) status: AgentStatusEnum | null,
    @Args() paging: PagingArgs,
  ) {
    const all = await this.agents(ctx, pool, status);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (a) => [a.pool, a.name]);
  }

  @Authorized("sluice:ListAgentTokens")
  @Query(() => [AgentTokenType], {
    ...deprecatedList("agentTokens"),
    description: "Agent tokens (never the secrets), oldest first.",
  })
  async agentTokens(@Ctx() ctx: GraphQLContext): Promise<AgentTokenType[]> {
    return ctx.agents.listTokens(actingAccount(ctx.principal!));
  }

  @Authorized("sluice:ListAgentTokens")
  @Query(() => AgentTokenConnection, { description: "Agent tokens (never the secrets), oldest first." })
  async agentTokensV2(@Ctx() ctx: GraphQLContext, @Args() paging: PagingArgs) {
    const all = await this.agentTokens(ctx);
    return connectionOfList(all, paging, LIST_PAGE_SIZE, (t) => [t.createdAt.toISOString(), t.id]);
  }

  @Authorized("sluice:CreateAgentToken")
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateAgentTokenPayload, {
    description:
      "Creates a token agents register with. The secret is in this answer only; it is stored hashed.",
  })
  async createAgentTokenV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => CreateAgentTokenInput) input: InputOf<typeof CreateAgentTokenInput>,
  ): Promise<CreateAgentTokenPayload> {
    const trimmed = input.description.trim();
    if (trimmed.length === 0 || trimmed.length > MAX_DESCRIPTION) {
      const message = `description must be 1 to ${MAX_DESCRIPTION} characters; it has ${trimmed.length}.`;
      throw new DomainError("BAD_USER_INPUT", message, {
        validationErrors: [{ path: "description", message }],
      });
    }
    const { row, token } = await ctx.agents.createToken(
      trimmed,
      ctx.principal!.id,
      actingAccount(ctx.principal!),
    );
    return payload(input, { id: row.id, token, agentToken: row });
  }

  @Authorized("sluice:CreateAgentToken")
  @UseMiddleware(auditMutations)
  @Mutation(() => CreateAgentTokenPayload, {
    description: "Creates a token agents register with.",
    ...deprecated("createAgentToken"),
  })
  async createAgentToken(
    @Ctx() ctx: GraphQLContext,
    @Arg("description") description: string,
  ): Promise<CreateAgentTokenPayload> {
    return this.createAgentTokenV2(ctx, { description });
  }

  @Authorized("sluice:RevokeAgentToken")
  @UseMiddleware(auditMutations)
  @Mutation(() => RevokeAgentTokenPayload, {
    description:
      "Revokes a token: its agents are refused from now on, and the jobs they run fail as agent lost (and are retried elsewhere when their policy allows).",
  })
  async revokeAgentTokenV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => RevokeAgentTokenInput) input: InputOf<typeof RevokeAgentTokenInput>,
  ) {
    const { id } = input;
    const revoked = /^[0-9a-f-]{36}$/i.test(id)
      ? await ctx.agents.revokeToken(id, ctx.principal!.id, actingAccount(ctx.principal!))
      : null;
    if (!revoked) throw new NotFoundError(`No agent token ${id} exists.`);
    ctx.agentGateway.announce(revoked.agents);
    ctx.agentGateway.tellRevoked(revoked.leases);
    return payload(input, { agentToken: revoked.token });
  }

  @Authorized("sluice:RevokeAgentToken")
  @UseMiddleware(auditMutations)
  @Mutation(() => AgentTokenType, { description: "Revokes a token.", ...deprecated("revokeAgentToken") })
  async revokeAgentToken(
    @Ctx() ctx: GraphQLContext,
    @Arg("id", () => ID) id: string,
  ): Promise<AgentTokenType> {
    return (await this.revokeAgentTokenV2(ctx, { id })).agentToken;
  }

  @Authorized("sluice:ListAgents")
  @Subscription(() => AgentEventType, {
    description: "Agents coming online, getting busy, draining and going offline (of one pool, or all).",
    subscribe: ({ args, context }) => {
      const { pool } = args as { pool?: string | null };
      const ctx = context as GraphQLContext;
      let detach = () => {};
      const queue = asyncQueue<AgentRow>(() => detach());
      // Only the agents the caller may list (sluice:ListAgents on each).
      const visible = (agent: AgentRow) =>
        visibleItems(ctx.principal, "sluice:ListAgents", [agent], (a) =>
          srnOf.agent(a.account, a.pool, a.name),
        ).length > 0;
      detach = ctx.agentGateway.onStatus((agent) => {
        if ((!pool || agent.pool === pool) && visible(agent)) queue.push(agent);
      });
      return queue.iterator;
    },
  })
  agentEvents(
    @Root() agent: AgentRow,
    @Arg("pool", () => String, { nullable: true }) _pool: string | null,
  ): AgentEventType {
    return { status: agent.status as AgentStatusEnum, agent: agentType(agent) };
  }
}
