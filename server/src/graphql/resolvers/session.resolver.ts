import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from "type-graphql";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { SignInPayload } from "../types/session.type";

/**
 * Password sign-in and sessions (auth/password-sign-in.ts). signIn is the one operation an
 * anonymous caller may call (operations.ts, resource `public`); every call, done or refused, is in
 * the audit log with its password masked.
 */
@Resolver()
export class SessionResolver {
  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => SignInPayload, {
    description:
      "Signs a user in with a password: a session token that expires after SLUICE_SESSION_TTL. Repeated failures lock the name out for a while.",
  })
  async signIn(
    @Ctx() ctx: GraphQLContext,
    @Arg("name") name: string,
    @Arg("password") password: string,
  ): Promise<SignInPayload> {
    return ctx.passwords.signIn(name, password);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description:
      "Revokes the caller's session token (its connections close); false when the caller used an API token, which stays valid.",
  })
  async signOut(@Ctx() ctx: GraphQLContext): Promise<boolean> {
    return ctx.passwords.signOut(ctx.principal!);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Sets a user's password (sluice:ManageIdentity on the user); the user's sessions end.",
  })
  async setUserPassword(
    @Ctx() ctx: GraphQLContext,
    @Arg("userName") userName: string,
    @Arg("password") password: string,
  ): Promise<boolean> {
    return ctx.passwords.setUserPassword(userName, password, ctx.principal!);
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Changes the caller's own password, given the current one; the caller's other sessions end.",
  })
  async changePassword(
    @Ctx() ctx: GraphQLContext,
    @Arg("currentPassword") currentPassword: string,
    @Arg("newPassword") newPassword: string,
  ): Promise<boolean> {
    return ctx.passwords.changePassword(ctx.principal!, currentPassword, newPassword);
  }
}
