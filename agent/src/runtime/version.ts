/** The agent software's version, sent in the registration and every accept. */
import packageJson from "../../package.json";

export const AGENT_VERSION: string = packageJson.version;
