import { Arg, Authorized, Ctx, Mutation, Resolver, UseMiddleware } from "type-graphql";
import { auditMutations } from "../audit";
import type { GraphQLContext } from "../context";
import { SignInPayload } from "../types/session.type";
import {
  ChangePasswordInput,
  ChangePasswordPayload,
  SetUserPasswordInput,
  SetUserPasswordPayload,
  SignInInput,
  SignOutInput,
  SignOutPayload,
} from "../types/mutation-io";
import { payload, type InputOf } from "../types/mutation";
import { deprecated } from "../deprecations";

/**
 * Password sign-in and sessions (auth/password-sign-in.ts). signInV2 (and the deprecated signIn)
 * are the operations an anonymous caller may call (operations.ts, resource `public`); every call,
 * done or refused, is in
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
  async signInV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => SignInInput) input: InputOf<typeof SignInInput>,
  ): Promise<SignInPayload> {
    return payload(input, await ctx.passwords.signIn(input.name, input.password));
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => SignInPayload, {
    description: "Signs a user in with a password: a session token.",
    ...deprecated("signIn"),
  })
  async signIn(
    @Ctx() ctx: GraphQLContext,
    @Arg("name") name: string,
    @Arg("password") password: string,
  ): Promise<SignInPayload> {
    return this.signInV2(ctx, { name, password });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => SignOutPayload, {
    description:
      "Revokes the caller's session token (its connections close); signedOut false when the caller used an API token, which stays valid.",
  })
  async signOutV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => SignOutInput) input: InputOf<typeof SignOutInput>,
  ) {
    return payload(input, { signedOut: await ctx.passwords.signOut(ctx.principal!) });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Revokes the caller's session token; false when the caller used an API token.",
    ...deprecated("signOut"),
  })
  async signOut(@Ctx() ctx: GraphQLContext): Promise<boolean> {
    return (await this.signOutV2(ctx, {})).signedOut;
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => SetUserPasswordPayload, {
    description: "Sets a user's password (sluice:ManageIdentity on the user); the user's sessions end.",
  })
  async setUserPasswordV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => SetUserPasswordInput) input: InputOf<typeof SetUserPasswordInput>,
  ) {
    await ctx.passwords.setUserPassword(input.userName, input.password, ctx.principal!);
    return payload(input, { userName: input.userName });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Sets a user's password; the user's sessions end.",
    ...deprecated("setUserPassword"),
  })
  async setUserPassword(
    @Ctx() ctx: GraphQLContext,
    @Arg("userName") userName: string,
    @Arg("password") password: string,
  ): Promise<boolean> {
    await this.setUserPasswordV2(ctx, { userName, password });
    return true;
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => ChangePasswordPayload, {
    description: "Changes the caller's own password, given the current one; the caller's other sessions end.",
  })
  async changePasswordV2(
    @Ctx() ctx: GraphQLContext,
    @Arg("input", () => ChangePasswordInput) input: InputOf<typeof ChangePasswordInput>,
  ) {
    const changed = await ctx.passwords.changePassword(
      ctx.principal!,
      input.currentPassword,
      input.newPassword,
    );
    return payload(input, { changed });
  }

  @Authorized()
  @UseMiddleware(auditMutations)
  @Mutation(() => Boolean, {
    description: "Changes the caller's own password, given the current one.",
    ...deprecated("changePassword"),
  })
  async changePassword(
    @Ctx() ctx: GraphQLContext,
    @Arg("currentPassword") currentPassword: string,
    @Arg("newPassword") newPassword: string,
  ): Promise<boolean> {
    return (await this.changePasswordV2(ctx, { currentPassword, newPassword })).changed;
  }
}
