/**
 * Whether an agent runs other software than the server: a different protocol version (the server
 * may refuse its jobs' messages one day) or a different release (it works, but lags). null: same.
 */
export function versionMismatch(
  agent: { version: string; protocolVersion: number },
  server: { server: string; protocol: number } | null | undefined,
): string | null {
  if (!server) return null;
  if (agent.protocolVersion !== server.protocol)
    return `protocol ${agent.protocolVersion}, the server speaks ${server.protocol}`;
  if (agent.version !== server.server) return `the server runs v${server.server}`;
  return null;
}
