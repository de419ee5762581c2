import { MIN_SUPPORTED_PROTOCOL_VERSION, PROTOCOL_VERSION, checkCompatible } from "../src";

describe("protocol version", () => {
  it("is 3, and 3 is the oldest supported (version 3 signs server messages: a version 2 agent would obey a forged job)", () => {
    expect(PROTOCOL_VERSION).toBe(3);
    expect(MIN_SUPPORTED_PROTOCOL_VERSION).toBe(3);
  });

  it("accepts the current version", () => {
    expect(checkCompatible(PROTOCOL_VERSION)).toEqual({ compatible: true, version: 3 });
  });

  it.each<[unknown, string]>([
    [4, "Protocol version 4 is newer than this peer supports (version 3 only): upgrade this peer."],
    [2, "Protocol version 2 is older than this peer supports (version 3 only): upgrade the sender."],
    [0, "protocolVersion must be a positive integer; got 0."],
    [1.5, "protocolVersion must be a positive integer; got 1.5."],
    ["1", 'protocolVersion must be a positive integer; got "1".'],
    [
      undefined,
      "The message has no protocolVersion: the sender does not speak the Sluice agent protocol (this peer speaks version 3 only).",
    ],
    [
      null,
      "The message has no protocolVersion: the sender does not speak the Sluice agent protocol (this peer speaks version 3 only).",
    ],
  ])("refuses %j with a message that says why", (version, message) => {
    expect(checkCompatible(version)).toEqual({ compatible: false, message });
  });

  it("names who must upgrade", () => {
    const server = { self: "this server", other: "the agent", min: 2, max: 3 };
    expect(checkCompatible(4, server)).toEqual({
      compatible: false,
      message:
        "Protocol version 4 is newer than this server supports (versions 2 to 3): upgrade this server.",
    });
    expect(checkCompatible(1, server)).toEqual({
      compatible: false,
      message: "Protocol version 1 is older than this server supports (versions 2 to 3): upgrade the agent.",
    });
    expect(checkCompatible(2, server)).toEqual({ compatible: true, version: 2 });
  });
});
