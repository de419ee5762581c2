import { Authorized, Query, Resolver } from "type-graphql";
import { VERSION } from "../../version";
import { VersionType } from "../types/version.type";

@Resolver()
export class VersionResolver {
  @Authorized("sluice:GetVersion")
  @Query(() => VersionType, { description: "The server's version and protocol version (also GET /version)." })
  version(): VersionType {
    return { ...VERSION };
  }
}
