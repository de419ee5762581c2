import type { GitPushFilter } from "../../document";
import { expectIssues, expectValid, pipeline } from "../__tests__/harness";

const patterns = (...includes: string[]) => ({ includes, excludes: [] });
const branchFilter: GitPushFilter = { branches: patterns("main"), filePaths: null, tags: null };
const withPush = (...push: GitPushFilter[]) =>
  pipeline({ triggers: [{ providerType: "Git", gitConfiguration: { sourceActionName: "Checkout", push } }] });

describe("trigger push filters", () => {
  it("accepts 3 filters with 8 patterns per list, and tag-only filters", () => {
    const eight = Array.from({ length: 8 }, (_, i) => `release/${i}`);
    expectValid(
      withPush(
        { branches: { includes: eight, excludes: eight }, filePaths: patterns("src/**"), tags: null },
        { branches: null, filePaths: null, tags: patterns("v*") },
        branchFilter,
      ),
    );
  });

  it("reports a fourth filter as a limit", () => {
    expectIssues(withPush(branchFilter, branchFilter, branchFilter, branchFilter), [
      {
        path: "triggers[0].gitConfiguration.push",
        message: "A trigger has at most 3 push filters; this one has 4.",
        limit: true,
      },
    ]);
  });

  it("reports a ninth pattern as a limit", () => {
    const nine = Array.from({ length: 9 }, (_, i) => `src/${i}/**`);
    expectIssues(
      withPush({ branches: patterns("main"), filePaths: { includes: [], excludes: nine }, tags: null }),
      [
        {
          path: "triggers[0].gitConfiguration.push[0].filePaths.excludes",
          message: "A filter list has at most 8 patterns; this one has 9.",
          limit: true,
        },
      ],
    );
  });

  it("reports a filter without branches or tags", () => {
    expectIssues(withPush(branchFilter, { branches: null, filePaths: patterns("src/**"), tags: null }), [
      {
        path: "triggers[0].gitConfiguration.push[1]",
        message: expect.stringMatching(/^A push filter needs branches or tags/),
      },
    ]);
  });

  it("reports an empty pattern", () => {
    expectIssues(withPush({ branches: patterns("main", ""), filePaths: null, tags: null }), [
      {
        path: "triggers[0].gitConfiguration.push[0].branches.includes[1]",
        message: 'Pattern "" is 0 characters long; patterns are 1 to 255 characters.',
      },
    ]);
  });
});
