/**
 * @sluice/protocol — the contract between the Sluice server and its agents over NATS JetStream.
 * PROTOCOL.md is the specification; each module mirrors one part of it.
 */
export * from "./version";
export * from "./vocabulary";
export * from "./limits";
export * from "./failures";
export * from "./names";
export * from "./messages";
export * from "./codec";
export * from "./streams";
export * from "./transient";
export * from "./sealed";
export * from "./signing";
export * from "./permissions";
