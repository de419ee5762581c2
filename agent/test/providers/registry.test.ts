import { BUILTIN_PROVIDER_IDS, createProviders } from "../../src/providers/registry";
import { formatActionTypeId, parseActionTypeId } from "../../src/providers/types";

describe("createProviders", () => {
  it("creates every built-in provider under its formatted id", () => {
    const providers = createProviders(BUILTIN_PROVIDER_IDS);
    expect([...providers.keys()]).toEqual([
      "Source/Sluice/Git@1",
      "Build/Sluice/Shell@1",
      "Test/Sluice/Shell@1",
      "Deploy/Sluice/Shell@1",
      "Invoke/Sluice/Webhook@1",
    ]);
    for (const [key, provider] of providers) expect(formatActionTypeId(provider.id)).toBe(key);
  });

  it("creates a Custom provider from its handler", () => {
    const id = parseActionTypeId("Build/Custom/Gradle@1");
    const providers = createProviders([id, id], { "Build/Custom/Gradle@1": "./gradle-handler" });
    expect([...providers.keys()]).toEqual(["Build/Custom/Gradle@1"]);
    expect(providers.get("Build/Custom/Gradle@1")!.id).toEqual(id);
  });

  it.each([
    ["Approval/Sluice/Manual@1", {}, /approvals are handled by the Sluice server/],
    ["Build/Sluice/Maven@1", {}, /Build\/Sluice\/Maven@1 is not a Sluice action type this agent implements/],
    ["Source/Sluice/Shell@1", {}, /not a Sluice action type this agent implements/],
    ["Build/Sluice/Shell@2", {}, /not a Sluice action type this agent implements/],
    [
      "Build/Custom/Gradle@1",
      {},
      /Build\/Custom\/Gradle@1 is a Custom action type: give the agent a handler/,
    ],
    ["Build/Sluice/Shell@1", { "Build/Sluice/Shell@1": "x" }, /handlers are only for Custom action types/],
  ])("refuses %s", (text, handlers, message) => {
    expect(() => createProviders([parseActionTypeId(text)], handlers)).toThrow(message);
  });
});
