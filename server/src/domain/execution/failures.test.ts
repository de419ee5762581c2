import { FAILURE_CAUSES as AGENT_FAILURE_CAUSES } from "@sluice/protocol";
import { FAILURE_CAUSES, SERVER_FAILURE_CAUSES, classifyFailure, type FailureCause } from "./failures";

describe("classifyFailure: every cause, retryable or not, and the policy condition that covers it", () => {
  const table: Array<[FailureCause, boolean, "AGENT_LOST" | "FAILED" | "TIMED_OUT"]> = [
    ["ProcessExit", true, "FAILED"],
    ["ActionFailed", true, "FAILED"],
    ["ProviderError", true, "FAILED"],
    ["TimedOut", true, "TIMED_OUT"],
    ["Cancelled", false, "FAILED"],
    ["LeaseLost", true, "AGENT_LOST"],
    ["AgentShutdown", true, "AGENT_LOST"],
    ["AgentRevoked", true, "AGENT_LOST"],
    ["JobRefused", false, "FAILED"],
    ["ConfigurationInvalid", false, "FAILED"],
    ["ArtifactMissing", false, "FAILED"],
    ["OutputTooLarge", false, "FAILED"],
    ["InputUnavailable", false, "FAILED"],
    ["ArtifactStoreUnavailable", true, "FAILED"],
    ["WorkspaceError", true, "FAILED"],
    ["SpawnFailed", true, "FAILED"],
    ["Unknown", true, "FAILED"],
    ["LeaseExpired", true, "AGENT_LOST"],
    ["ArtifactMismatch", true, "FAILED"],
    ["OutputsRefused", false, "FAILED"],
  ];

  it("has a row for every cause agents report and every cause the server finds", () => {
    expect(table.map(([cause]) => cause).sort()).toEqual([...FAILURE_CAUSES].sort());
    expect(FAILURE_CAUSES).toEqual([...AGENT_FAILURE_CAUSES, ...SERVER_FAILURE_CAUSES]);
  });

  it.each(table)("%s: retryable %s, under %s", (cause, retryable, condition) => {
    expect(classifyFailure(cause)).toEqual({ retryable, condition });
  });
});
