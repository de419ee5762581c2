import { Field, ObjectType } from "type-graphql";
import { MutationPayload } from "./mutation";

@ObjectType("SignInPayload", {
  description:
    "A session: a short-lived API token (SLUICE_SESSION_TTL) to send as `Authorization: Bearer <token>`.",
})
export class SignInPayload extends MutationPayload {
  @Field({ description: "The bearer token (slc_…); in this answer only." })
  token!: string;

  @Field()
  expiresAt!: Date;

  @Field({ description: "Who it signs in: user/<name>." })
  principal!: string;
}
