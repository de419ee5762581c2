import type { RetryPolicy } from "../../document";
import {
  approval,
  expectIssues,
  expectValid,
  gitSource,
  pipeline,
  shellBuild,
  stage,
} from "../__tests__/harness";

function withPolicy(policy: RetryPolicy | null, gate: RetryPolicy | null = null) {
  return pipeline({
    stages: [
      stage("Source", [gitSource()]),
      stage("Build", [
        shellBuild("Compile", { retryPolicy: policy }),
        approval("Gate", { runOrder: 2, retryPolicy: gate }),
      ]),
    ],
  });
}

describe("retryPolicy: 1–10 attempts, 0–3600 s backoff, distinct conditions, no approvals", () => {
  it("accepts the bounds and no policy", () => {
    expectValid(withPolicy(null));
    expectValid(withPolicy({ maxAttempts: 1, backoffSeconds: 0, on: ["AGENT_LOST"] }));
    expectValid(
      withPolicy({ maxAttempts: 10, backoffSeconds: 3600, on: ["AGENT_LOST", "FAILED", "TIMED_OUT"] }),
    );
  });

  it("reports every bad field at its own path", () => {
    expectIssues(withPolicy({ maxAttempts: 11, backoffSeconds: -1, on: ["FAILED", "FAILED"] }), [
      {
        path: "stages[1].actions[0].retryPolicy.maxAttempts",
        message:
          'retryPolicy.maxAttempts of action "Compile" must be a whole number from 1 to 10 (the first attempt included); it is 11.',
      },
      {
        path: "stages[1].actions[0].retryPolicy.backoffSeconds",
        message:
          'retryPolicy.backoffSeconds of action "Compile" must be a whole number from 0 to 3600; it is -1.',
      },
      {
        path: "stages[1].actions[0].retryPolicy.on[1]",
        message: 'retryPolicy.on of action "Compile" names FAILED twice.',
      },
    ]);
  });

  it("needs at least one condition and whole numbers", () => {
    expectIssues(withPolicy({ maxAttempts: 2.5, backoffSeconds: 0, on: [] }), [
      {
        path: "stages[1].actions[0].retryPolicy.maxAttempts",
        message: expect.stringMatching(/it is 2\.5\.$/),
      },
      { path: "stages[1].actions[0].retryPolicy.on", message: expect.stringMatching(/at least one of/) },
    ]);
  });

  it("refuses a policy on a manual approval", () => {
    expectIssues(withPolicy(null, { maxAttempts: 2, backoffSeconds: 0, on: ["FAILED"] }), [
      {
        path: "stages[1].actions[1].retryPolicy",
        message: 'Approval action "Gate" cannot have a retryPolicy: a decision is not retried.',
      },
    ]);
  });
});
