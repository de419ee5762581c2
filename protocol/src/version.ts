/**
 * Protocol versions (PROTOCOL.md, section 2). A receiver checks `protocolVersion` before anything
 * else in a message, so that a message of another version is refused with both versions named.
 */

export const PROTOCOL_VERSION = 3;
/**
 * Version 2 added the lease token and per-attempt artifact keys; version 3 signed server messages
 * (PROTOCOL.md 2, history): an agent of version 2 would obey a forged job, so it is refused.
 */
export const MIN_SUPPORTED_PROTOCOL_VERSION = 3;

export type Compatibility = { compatible: true; version: number } | { compatible: false; message: string };

export interface CompatibilityOptions {
  /** Who checks, for the message: "this server", "this agent". Default "this peer". */
  self?: string;
  /** Who sent the message: "the agent". Default "the sender". */
  other?: string;
  /** The versions `self` supports; default MIN_SUPPORTED_PROTOCOL_VERSION..PROTOCOL_VERSION. */
  min?: number;
  max?: number;
}

/** Whether a message with this `protocolVersion` can be read, and if not a sentence saying why. */
export function checkCompatible(version: unknown, options: CompatibilityOptions = {}): Compatibility {
  const {
    self = "this peer",
    other = "the sender",
    min = MIN_SUPPORTED_PROTOCOL_VERSION,
    max = PROTOCOL_VERSION,
  } = options;
  const range = min === max ? `version ${max} only` : `versions ${min} to ${max}`;
  if (version === undefined || version === null) {
    return {
      compatible: false,
      message: `The message has no protocolVersion: ${other} does not speak the Sluice agent protocol (${self} speaks ${range}).`,
    };
  }
  if (typeof version !== "number" || !Number.isSafeInteger(version) || version < 1) {
    return {
      compatible: false,
      message: `protocolVersion must be a positive integer; got ${JSON.stringify(version) ?? String(version)}.`,
    };
  }
  if (version > max) {
    return {
      compatible: false,
      message: `Protocol version ${version} is newer than ${self} supports (${range}): upgrade ${self}.`,
    };
  }
  if (version < min) {
    return {
      compatible: false,
      message: `Protocol version ${version} is older than ${self} supports (${range}): upgrade ${other}.`,
    };
  }
  return { compatible: true, version };
}
