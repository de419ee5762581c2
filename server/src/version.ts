/** The server software's version and the agent protocol it speaks (GET /version, the version query). */
import { MIN_SUPPORTED_PROTOCOL_VERSION, PROTOCOL_VERSION } from "@sluice/protocol";
import packageJson from "../package.json";

export interface VersionInfo {
  server: string;
  protocol: number;
  minProtocol: number;
}

export const VERSION: VersionInfo = {
  server: packageJson.version,
  protocol: PROTOCOL_VERSION,
  minProtocol: MIN_SUPPORTED_PROTOCOL_VERSION,
};
