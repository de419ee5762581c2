/**
 * Password sign-in from the command line: `login` signs in (signIn) and keeps the session token in
 * the credentials file (credentials.ts) for the endpoint, `logout` signs out (signOut) and forgets
 * it, `set-password` sets a user's password (an administrator) or changes the caller's own. A
 * password is read from the terminal without echo, or from stdin with `--password-stdin`; it is
 * never an option (it would be in the shell history and the process list) and never printed.
 */
import type { Command } from "commander";
import { GraphQLRequestError } from "../client";
import type { CommandContext, ContextFactory } from "../context";
import { UsageError } from "../errors";

export const SIGN_IN_MUTATION =
  "mutation SignIn($name:String!,$password:String!){ signInV2(input:{name:$name,password:$password}){ token expiresAt principal } }";
export const SIGN_OUT_MUTATION = "mutation SignOut{ signOutV2(input:{}){ signedOut } }";
export const SET_USER_PASSWORD_MUTATION =
  "mutation SetUserPassword($userName:String!,$password:String!){ setUserPasswordV2(input:{userName:$userName,password:$password}){ userName } }";
export const CHANGE_PASSWORD_MUTATION =
  "mutation ChangePassword($currentPassword:String!,$newPassword:String!){ changePasswordV2(input:{currentPassword:$currentPassword,newPassword:$newPassword}){ changed } }";

/** stdin's lines without their line ends (a password may hold spaces, not a newline). */
async function stdinLines(ctx: CommandContext, count: number, what: string): Promise<string[]> {
  const lines = (await ctx.readStdin()).split(/\r?\n/);
  if (lines.length > count && lines.slice(count).every((l) => l === "")) lines.length = count;
  if (lines.length < count || lines.slice(0, count).some((l) => l === "")) {
    throw new UsageError(`--password-stdin: stdin must hold ${what}`);
  }
  return lines.slice(0, count);
}

async function prompt(ctx: CommandContext, question: string): Promise<string> {
  if (!ctx.readSecret) {
    throw new UsageError("no terminal to ask for the password on: give it on stdin with --password-stdin");
  }
  const value = await ctx.readSecret(question);
  if (value === "") throw new UsageError("no password given");
  return value;
}

async function newPassword(ctx: CommandContext, question: string): Promise<string> {
  const first = await prompt(ctx, question);
  if ((await prompt(ctx, "Repeat it: ")) !== first) throw new UsageError("the two passwords differ");
  return first;
}

export function register(program: Command, context: ContextFactory): void {
  program
    .command("login")
    .description(
      "Sign in with a user name and password; the session token is kept in the credentials file " +
        "(SLUICE_CREDENTIALS_FILE, default ~/.config/sluice/credentials.json) and used by later commands " +
        "until it expires or `sluice logout`. Prints { principal, expiresAt }.",
    )
    .requiredOption("--user-name <name>", "the user to sign in as")
    .option("--password-stdin", "read the password from stdin (one line) instead of asking on the terminal")
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const o = command.opts<{ userName: string; passwordStdin?: boolean }>();
      if (!ctx.credentials) {
        throw new UsageError("nowhere to keep the session: set HOME or SLUICE_CREDENTIALS_FILE");
      }
      const password = o.passwordStdin
        ? (await stdinLines(ctx, 1, "the password on its first line"))[0]!
        : await prompt(ctx, `Password for ${o.userName}: `);
      // signIn needs no token: send none (a stale stored one would only be ignored).
      const data = await ctx.requestWith(undefined)<{
        signInV2: { token: string; expiresAt: string; principal: string };
      }>(SIGN_IN_MUTATION, { name: o.userName, password });
      ctx.credentials.save(ctx.endpoint, data.signInV2);
      ctx.notice(
        `Signed in as ${data.signInV2.principal} at ${ctx.endpoint}; session kept in ${ctx.credentials.file}`,
      );
      ctx.print({ principal: data.signInV2.principal, expiresAt: data.signInV2.expiresAt });
    });

  program
    .command("logout")
    .description(
      "Sign out the session `sluice login` stored for the endpoint (the server revokes it) and forget it. " +
        "Prints { signedOut }.",
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const stored = ctx.credentials?.entry(ctx.endpoint) ?? null;
      if (!stored) {
        ctx.notice(`Not signed in at ${ctx.endpoint}`);
        ctx.print({ signedOut: false });
        return;
      }
      let signedOut = false;
      try {
        signedOut = (
          await ctx.requestWith(stored.token)<{ signOutV2: { signedOut: boolean } }>(SIGN_OUT_MUTATION)
        ).signOutV2.signedOut;
      } catch (error) {
        // Expired or revoked already: nothing left to sign out; forget it all the same.
        if (!(error instanceof GraphQLRequestError && error.code === "UNAUTHENTICATED")) throw error;
      }
      ctx.credentials!.remove(ctx.endpoint);
      ctx.print({ signedOut });
    });

  program
    .command("set-password")
    .description(
      "Set a user's password (--user-name; needs sluice:ManageIdentity; the user's sessions end), or " +
        "change your own (no --user-name; asks for the current one first). Prints { passwordSet }.",
    )
    .option("--user-name <name>", "the user whose password an administrator sets")
    .option(
      "--password-stdin",
      "read from stdin instead of the terminal: the new password (with --user-name), or the current " +
        "password on the first line and the new one on the second",
    )
    .action(async (_options: unknown, command: Command) => {
      const ctx = context(command);
      const o = command.opts<{ userName?: string; passwordStdin?: boolean }>();
      if (o.userName !== undefined) {
        const password = o.passwordStdin
          ? (await stdinLines(ctx, 1, "the new password on its first line"))[0]!
          : await newPassword(ctx, `New password for ${o.userName}: `);
        // Refused (no such user, a weak password): an error, which fails the command.
        await ctx.request<{ setUserPasswordV2: { userName: string } }>(SET_USER_PASSWORD_MUTATION, {
          userName: o.userName,
          password,
        });
        ctx.print({ passwordSet: true });
        return;
      }
      const [currentPassword, next] = o.passwordStdin
        ? await stdinLines(ctx, 2, "the current password on the first line and the new one on the second")
        : [await prompt(ctx, "Current password: "), await newPassword(ctx, "New password: ")];
      const data = await ctx.request<{ changePasswordV2: { changed: boolean } }>(CHANGE_PASSWORD_MUTATION, {
        currentPassword,
        newPassword: next,
      });
      ctx.print({ passwordSet: data.changePasswordV2.changed });
    });
}
