/** The agents page's version marker (src/features/agents/version.ts). No browser, no server. */
import { versionMismatch } from "../src/features/agents/version";

const server = { server: "0.2.0", protocol: 1 };

it("marks an agent whose protocol or release differs from the server's", () => {
  expect(versionMismatch({ version: "0.2.0", protocolVersion: 1 }, server)).toBeNull();
  expect(versionMismatch({ version: "0.1.0", protocolVersion: 1 }, server)).toBe("the server runs v0.2.0");
  expect(versionMismatch({ version: "0.2.0", protocolVersion: 2 }, server)).toBe(
    "protocol 2, the server speaks 1",
  );
  expect(versionMismatch({ version: "0.1.0", protocolVersion: 1 }, null)).toBeNull();
});
